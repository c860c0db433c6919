//! `sohoa serve` and `sohoa station add|list|revoke`.

use super::{print_json, say, ExitCode};
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
) -> ExitCode {
    let lang = settings.ui_language;
    let tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        (None, None) => None,
        _ => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    "Cần cả --tls-cert và --tls-key để bật HTTPS.",
                    "HTTPS needs both --tls-cert and --tls-key."
                )
            );
            return ExitCode::Usage;
        }
    };
    let https = tls.is_some();
    let tree = match Records::open_configured(settings)
        .map_err(|e| e.to_string())
        .and_then(|r| super::report::load_tree(settings, &r).map_err(|_| String::new()))
    {
        Ok(t) => t,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("sohoa: {e}");
            }
            return ExitCode::DataDir;
        }
    };
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
    match result {
        Ok(()) => ExitCode::Ok,
        Err(e @ serve::ServeError::Listen { .. }) | Err(e @ serve::ServeError::Tls(_)) => {
            eprintln!("sohoa: {e}");
            ExitCode::Usage
        }
        Err(e) => {
            eprintln!("sohoa: {e}");
            ExitCode::DataDir
        }
    }
}

pub fn add_station(settings: &Settings, name: &str, unit: &str) -> ExitCode {
    let lang = settings.ui_language;
    let records = match Records::open_configured(settings) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::DataDir;
        }
    };
    if let Ok(tree) = super::report::load_tree(settings, &records) {
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
    let token = match serve::new_token() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::Internal;
        }
    };
    match records.add_station(name, unit, &serve::token_digest(&token), false) {
        Ok(Some(_)) => {
            println!(
                "{}",
                say(
                    lang,
                    &format!("Đã tạo trạm {name} (đơn vị {unit}). Mã truy cập chỉ hiện một lần, hãy lưu lại:"),
                    &format!("Station {name} (unit {unit}) created. The token is shown once; keep it:"),
                )
            );
            println!("{token}");
            ExitCode::Ok
        }
        Ok(None) => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!("Đã có trạm tên {name}."),
                    &format!("A station named {name} exists already.")
                )
            );
            ExitCode::Usage
        }
        Err(e) => {
            eprintln!("sohoa: {e}");
            ExitCode::DataDir
        }
    }
}

pub fn list_stations(settings: &Settings, json: bool) -> ExitCode {
    let lang = settings.ui_language;
    let lines = match Records::open_configured(settings).and_then(|r| r.stations()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("sohoa: {e}");
            return ExitCode::DataDir;
        }
    };
    if json {
        return print_json(&lines);
    }
    for l in &lines {
        let state = match &l.revoked_at {
            Some(t) => say(lang, &format!("đã thu hồi {t}"), &format!("revoked {t}")),
            None => say(lang, "đang hoạt động", "active"),
        };
        println!(
            "{}",
            say(
                lang,
                &format!(
                    "{}  đơn vị {}  tạo {}  {state}  đã gửi {} tài liệu",
                    l.station.name,
                    l.station.unit_code,
                    l.created_at,
                    count(l.uploads, lang)
                ),
                &format!(
                    "{}  unit {}  created {}  {state}  {} documents sent",
                    l.station.name, l.station.unit_code, l.created_at, l.uploads
                ),
            )
        );
    }
    ExitCode::Ok
}

pub fn revoke_station(settings: &Settings, name: &str) -> ExitCode {
    let lang = settings.ui_language;
    match Records::open_configured(settings).and_then(|r| r.revoke_station(name)) {
        Ok(true) => {
            println!(
                "{}",
                say(
                    lang,
                    &format!("Đã thu hồi mã truy cập của trạm {name}; các yêu cầu của trạm này sẽ bị từ chối."),
                    &format!("Station {name}'s token is revoked; its requests are refused from now on."),
                )
            );
            ExitCode::Ok
        }
        Ok(false) => {
            eprintln!(
                "sohoa: {}",
                say(
                    lang,
                    &format!("Không có trạm đang hoạt động tên {name} (xem sohoa station list)."),
                    &format!("No active station named {name} (see sohoa station list)."),
                )
            );
            ExitCode::NotFound
        }
        Err(e) => {
            eprintln!("sohoa: {e}");
            ExitCode::DataDir
        }
    }
}
