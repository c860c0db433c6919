//! `sohoa serve` and `sohoa station add|list|revoke`.

use super::{outln, print_json, print_out, say, CliError, CliResult, ExitCode, Outcome};
use crate::config::Settings;
use crate::format::count;
use crate::records::Records;
use crate::serve::{self, Tls};
use std::path::PathBuf;

pub fn run(
    settings: &Settings,
    listen: &str,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
) -> CliResult {
    let lang = settings.ui_language;
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        (None, None) => None,
        _ => {
            return Err(CliError::usage(say(
                lang,
                "Cần cả --tls-cert và --tls-key để bật HTTPS.",
                "HTTPS needs both --tls-cert and --tls-key.",
            )));
        }
    };
    let https = tls.is_some();
    let records = Records::open_configured(settings)?;
    // The server cannot start without its unit tree: the data it serves is
    // unusable (exit 5), whatever the tree's fault.
    let tree =
        super::report::load_tree(settings, &records).map_err(|e| e.with_exit(ExitCode::DataDir))?;
    drop(records);
    let result = serve::serve(settings.clone(), tree, listen, tls, |addr| {
        let scheme = if https { "https" } else { "http" };
        eprintln!(
            "{}",
            say(
                lang,
                &format!("sohoa serve: đang phục vụ tại {scheme}://{addr}"),
                &format!("sohoa serve: listening on {scheme}://{addr}"),
            )
        );
    });
    result.map_err(|e| match e {
        serve::ServeError::Listen { .. }
        | serve::ServeError::Tls(_)
        | serve::ServeError::Anchors(_) => CliError::usage(e.to_string()),
        _ => CliError::data_dir(e),
    })?;
    Ok(Outcome::Done)
}

pub fn add_station(settings: &Settings, name: &str, unit: &str, monitor: bool) -> CliResult {
    let lang = settings.ui_language;
    let records = Records::open_configured(settings)?;
    if let Some(tree) = super::report::tree_or_warn(settings, &records) {
        if !tree.is_empty() && !tree.knows(unit) {
            eprintln!(
                "{}",
                say(
                    lang,
                    &format!("Cảnh báo: đơn vị {unit} không có trong danh mục đơn vị."),
                    &format!("Warning: unit {unit} is not in the unit tree."),
                )
            );
        }
    }
    let token = serve::new_token().map_err(CliError::internal)?;
    if records
        .add_station(name, unit, &serve::token_digest(&token), monitor)?
        .is_none()
    {
        return Err(CliError::usage(say(
            lang,
            &format!("Đã có trạm tên {name}."),
            &format!("A station named {name} exists already."),
        )));
    }
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "Đã tạo trạm {name} (đơn vị {unit}). Mã truy cập chỉ hiện một lần, hãy lưu lại:"
            ),
            &format!("Station {name} (unit {unit}) created. The token is shown once; keep it:"),
        )
    )?;
    outln!("{token}")?;
    Ok(Outcome::Done)
}

pub fn list_stations(settings: &Settings, json: bool) -> CliResult {
    let lang = settings.ui_language;
    let lines = Records::open_configured(settings)?.stations()?;
    if json {
        print_json(&lines)?;
        return Ok(Outcome::Done);
    }
    let mut out = String::new();
    for l in &lines {
        let state = match &l.revoked_at {
            Some(t) => say(lang, &format!("đã thu hồi {t}"), &format!("revoked {t}")),
            None => say(lang, "đang hoạt động", "active"),
        };
        out += &say(
            lang,
            &format!(
                "{}  đơn vị {}  tạo {}  {state}  đã gửi {} tài liệu\n",
                l.station.name,
                l.station.unit_code,
                l.created_at,
                count(l.uploads, lang)
            ),
            &format!(
                "{}  unit {}  created {}  {state}  {} documents sent\n",
                l.station.name, l.station.unit_code, l.created_at, l.uploads
            ),
        );
    }
    print_out(out.as_bytes())?;
    Ok(Outcome::Done)
}

pub fn revoke_station(settings: &Settings, name: &str) -> CliResult {
    let lang = settings.ui_language;
    if !Records::open_configured(settings)?.revoke_station(name)? {
        return Err(CliError::not_found(say(
            lang,
            &format!("Không có trạm đang hoạt động tên {name} (xem sohoa station list)."),
            &format!("No active station named {name} (see sohoa station list)."),
        )));
    }
    outln!(
        "{}",
        say(
            lang,
            &format!(
                "Đã thu hồi mã truy cập của trạm {name}; các yêu cầu của trạm này sẽ bị từ chối."
            ),
            &format!("Station {name}'s token is revoked; its requests are refused from now on."),
        )
    )?;
    Ok(Outcome::Done)
}
