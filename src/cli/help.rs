//! The command line in the operator's language. clap writes its help and its
//! usage errors in English; in Vietnamese (the default) the command tree is
//! given Vietnamese texts before parsing (descriptions, headings, defaults,
//! choices, the usage line) and clap's errors are said again from their parts.
//! The English texts are the doc comments of the clap definitions.

use super::{Cli, ExitCode};
use crate::config::Settings;
use crate::format::UiLanguage;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// Parses the command line in the language the operator reads: help and
/// version are printed (`Err(Ok)`), a usage error said (`Err(Usage)`).
pub fn parse(args: Vec<OsString>) -> Result<Cli, ExitCode> {
    let lang = language(&args);
    let args = help_subcommand(args);
    let matches = command(lang).try_get_matches_from(&args);
    let parsed = matches.and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
    parsed.map_err(|e| {
        match e.kind() {
            ErrorKind::DisplayHelp => {
                let _ = e.print();
                return ExitCode::Ok;
            }
            ErrorKind::DisplayVersion => {
                println!("sohoa {}", env!("CARGO_PKG_VERSION"));
                return ExitCode::Ok;
            }
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                return ExitCode::Usage;
            }
            _ => {}
        }
        match lang {
            UiLanguage::En => {
                let _ = e.print();
            }
            UiLanguage::Vi => eprintln!("{}", usage_error(&e, &args)),
        }
        ExitCode::Usage
    })
}

/// The language of the help: `--ui-language` on the command line, else the
/// settings' (`SOHOA_UI_LANGUAGE`, the config file), else Vietnamese.
fn language(args: &[OsString]) -> UiLanguage {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    let flag = |name: &str| {
        args.iter().enumerate().find_map(|(i, a)| {
            a.strip_prefix(&format!("{name}="))
                .or_else(|| (*a == name).then(|| args.get(i + 1).copied()).flatten())
        })
    };
    match flag("--ui-language") {
        Some("en") => UiLanguage::En,
        Some(_) => UiLanguage::Vi,
        None => Settings::load(flag("--config").map(std::path::Path::new))
            .map_or(UiLanguage::Vi, |s| s.ui_language),
    }
}

/// `sohoa help report missing` is `sohoa report missing --help` (the help
/// subcommand clap makes would answer in English).
fn help_subcommand(mut args: Vec<OsString>) -> Vec<OsString> {
    if args.get(1).is_some_and(|a| a == "help") {
        args.remove(1);
        args.push("--help".into());
    }
    args
}

/// The command tree, with Vietnamese texts when `lang` is Vietnamese.
pub fn command(lang: UiLanguage) -> clap::Command {
    let cmd = Cli::command();
    match lang {
        UiLanguage::En => cmd,
        UiLanguage::Vi => vietnamese(cmd, "").disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("In phiên bản của sohoa")
                .help_heading(OPTIONS),
        ),
    }
}

const OPTIONS: &str = "Tùy chọn";
const ARGUMENTS: &str = "Tham số";

/// `cmd` (at `path`, e.g. "report missing") and everything under it in Vietnamese.
fn vietnamese(mut cmd: clap::Command, path: &str) -> clap::Command {
    if let Some(about) = text(path) {
        cmd = cmd.about(about).long_about(None);
    }
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in names {
        let sub = if path.is_empty() {
            name.clone()
        } else {
            format!("{path} {name}")
        };
        cmd = cmd.mut_subcommand(&name, |s| vietnamese(s, &sub));
    }
    let path_owned = path.to_string();
    cmd = cmd.mut_args(|a| vietnamese_arg(a, &path_owned));
    let usage = usage(&cmd, path);
    cmd.disable_help_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("In trợ giúp này")
                .help_heading(OPTIONS),
        )
        .subcommand_help_heading("Lệnh")
        .subcommand_value_name("LỆNH")
        .override_usage(usage)
        .help_template("{about-with-newline}\nCách dùng: {usage}\n\n{all-args}{after-help}")
}

fn vietnamese_arg(a: Arg, path: &str) -> Arg {
    let mut help = text(&arg_key(path, &a)).map(str::to_string);
    let mut a = a;
    if let Some(h) = help.as_mut() {
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        let choices: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        let named = choices.iter().all(|c| h.contains(c.as_str()));
        if !choices.is_empty() && !named && a.get_action().takes_values() {
            h.push_str(&format!(" (một trong: {})", choices.join(", ")));
        }
        if !defaults.is_empty() && a.get_action().takes_values() {
            h.push_str(&format!(" [mặc định: {}]", defaults.join(", ")));
        }
        a = a.help(h.clone()).long_help(None);
    }
    // The options every command has come after the command's own.
    let heading = if a.is_positional() {
        ARGUMENTS
    } else if a.is_global_set() {
        "Tùy chọn chung"
    } else {
        OPTIONS
    };
    a.help_heading(heading)
        .hide_default_value(true)
        .hide_possible_values(true)
}

/// The catalogue key of an argument: `"report --year"`, `"dossier show <CODE>"`.
fn arg_key(path: &str, a: &Arg) -> String {
    let name = match a.get_long() {
        Some(l) => format!("--{l}"),
        None => format!("<{}>", a.get_id().as_str().to_uppercase()),
    };
    if path.is_empty() {
        name
    } else {
        format!("{path} {name}")
    }
}

/// "sohoa report missing [TÙY CHỌN] <FILE>": clap's own says `[OPTIONS]`.
fn usage(cmd: &clap::Command, path: &str) -> String {
    // Every command has options: its own, --help, and the global ones.
    let mut out = format!("sohoa {path}").trim_end().to_string() + " [TÙY CHỌN]";
    for a in cmd.get_positionals() {
        let name = a
            .get_value_names()
            .and_then(|v| v.first())
            .map_or_else(|| a.get_id().as_str().to_uppercase(), |v| v.to_string());
        let many = matches!(a.get_action(), ArgAction::Append)
            || a.get_num_args().is_some_and(|n| n.max_values() > 1);
        let name = if many { format!("{name}…") } else { name };
        out.push_str(&if a.is_required_set() {
            format!(" <{name}>")
        } else {
            format!(" [{name}]")
        });
    }
    if cmd.has_subcommands() {
        out.push_str(if cmd.is_subcommand_required_set() {
            " <LỆNH>"
        } else {
            " [LỆNH]"
        });
    }
    out
}

/// The subcommand the arguments name, e.g. "report missing" ("" for none).
fn subcommand_path(args: &[OsString]) -> (String, clap::Command) {
    let mut cmd = command(UiLanguage::Vi);
    let mut path: Vec<String> = Vec::new();
    for a in args.iter().skip(1).filter_map(|a| a.to_str()) {
        let Some(sub) = cmd.find_subcommand(a).cloned() else {
            continue;
        };
        path.push(a.to_string());
        cmd = sub;
    }
    (path.join(" "), cmd)
}

/// A usage error as the operator reads it: what is wrong, the usage line of
/// the command at hand, and where to read more.
fn usage_error(e: &clap::Error, args: &[OsString]) -> String {
    let get = |k: ContextKind| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        Some(ContextValue::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // "--jobs <JOBS>" is named "--jobs".
    let arg = get(ContextKind::InvalidArg)
        .map(|a| {
            if a.starts_with('-') {
                a.split([' ', '=']).next().unwrap_or_default().to_string()
            } else {
                a
            }
        })
        .unwrap_or_default();
    let value = get(ContextKind::InvalidValue).unwrap_or_default();
    let mut what = match e.kind() {
        ErrorKind::UnknownArgument => format!("lệnh này không có tùy chọn {arg}"),
        ErrorKind::InvalidSubcommand => format!(
            "không có lệnh {}",
            get(ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::InvalidValue if value.is_empty() => format!("{arg} cần một giá trị"),
        ErrorKind::InvalidValue => format!("giá trị {value:?} không hợp lệ cho {arg}"),
        ErrorKind::ValueValidation => format!("giá trị {value:?} của {arg} không đọc được"),
        ErrorKind::MissingRequiredArgument => format!("thiếu {arg}"),
        ErrorKind::MissingSubcommand => "thiếu lệnh".to_string(),
        ErrorKind::ArgumentConflict => format!(
            "không dùng {arg} cùng với {}",
            get(ContextKind::PriorArg).unwrap_or_default()
        ),
        ErrorKind::TooManyValues => format!("{arg} nhận quá nhiều giá trị ({value:?})"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} không đủ giá trị")
        }
        ErrorKind::NoEquals => format!("{arg} cần dấu = trước giá trị"),
        ErrorKind::InvalidUtf8 => "tham số không phải văn bản UTF-8".to_string(),
        _ => e.kind().as_str().unwrap_or("lệnh không hợp lệ").to_string(),
    };
    if let Some(valid) = get(ContextKind::ValidValue) {
        what.push_str(&format!("; hãy chọn một trong: {valid}"));
    }
    if let Some(s) =
        get(ContextKind::SuggestedArg).or_else(|| get(ContextKind::SuggestedSubcommand))
    {
        what.push_str(&format!("; có phải ý bạn là {s}?"));
    }
    let (path, cmd) = subcommand_path(args);
    let usage = usage(&cmd, &path);
    let more = format!("sohoa {path}").trim_end().to_string();
    let end = if what.ends_with('?') { "" } else { "." };
    format!("sohoa: {what}{end}\n\nCách dùng: {usage}\nXem thêm: {more} --help")
}

/// The Vietnamese text of a command (`"report missing"`, `""` for sohoa
/// itself) or an argument (`"report --year"`).
fn text(key: &str) -> Option<&'static str> {
    VI.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// Every command and argument in Vietnamese; a test checks none is missing
/// and none is left over.
const VI: &[(&str, &str)] = &[
    ("", "Số hóa hồ sơ thủ tục hành chính: bản quét thành PDF/A tìm kiếm được, gắn vào hồ sơ, và báo cáo số hóa theo Quyết định 766/QĐ-TTg"),
    ("--config", "Tệp cấu hình (TOML); xem mẫu config/sohoa.example.toml"),
    ("--data-dir", "Thư mục dữ liệu chứa kho lưu trữ archive/ và sohoa.db [mặc định: ./var]"),
    ("--database-url", "Dùng cơ sở dữ liệu PostgreSQL thay cho <thư mục dữ liệu>/sohoa.db (postgres://người_dùng:mật_khẩu@máy:cổng/tên)"),
    ("--ui-language", "Ngôn ngữ của thông báo và báo cáo: vi (tiếng Việt) hoặc en (tiếng Anh)"),
    ("batch", "Số hóa mọi thư mục hồ sơ trong các thư mục tiếp nhận (không sửa tệp gốc)"),
    ("batch <INBOXES>", "Các thư mục tiếp nhận, mỗi thư mục con là một hồ sơ"),
    ("batch --jobs", "Số luồng nhận dạng chữ chạy cùng lúc [mặc định: bằng số lõi CPU]"),
    ("batch --languages", "Ngôn ngữ nhận dạng của Tesseract, ví dụ vie+eng"),
    ("batch --unit", "Mã đơn vị ghi cho các thư mục không đặt tên theo mã hồ sơ quốc gia"),
    ("batch --accept-unknown-units", "Vẫn số hóa hồ sơ có mã đơn vị không có trong danh mục đơn vị đã nhập (mặc định: từ chối, vì thường là gõ nhầm)"),
    ("batch --json", "In bản tóm tắt dạng JSON (cho máy đọc) ra đầu ra chuẩn"),
    ("watch", "Theo dõi thư mục tiếp nhận: nhận từng thư mục hồ sơ khi đã quét xong, lưu vào kho, chuyển bản quét sang processed/ (hoặc failed/ kèm ghi chú .loi.txt)"),
    ("watch <INBOXES>", "Các thư mục tiếp nhận cần theo dõi [mặc định: các mục [[inbox]] của tệp cấu hình]"),
    ("watch --settle", "Số giây thư mục phải đứng yên trước khi được nhận [mặc định: 10]"),
    ("watch --poll", "Cứ SECS giây kiểm tra thư mục một lần thay vì chờ thông báo thay đổi (dùng cho thư mục chia sẻ qua mạng)"),
    ("watch --jobs", "Số luồng nhận dạng chữ chạy cùng lúc [mặc định: bằng số lõi CPU]"),
    ("status", "Tiến trình theo dõi có đang chạy không, và ở mỗi thư mục tiếp nhận: hồ sơ đang chờ, đang xử lý, đã xong, bị lỗi"),
    ("status --json", "In trạng thái dạng JSON"),
    ("dossier", "Tra cứu hồ sơ"),
    ("dossier show", "Xem một hồ sơ: các tài liệu đã số hóa, chất lượng từng trang, lỗi còn tồn"),
    ("dossier show <CODE>", "Mã hồ sơ, ví dụ 000.00.18.H44-230314-0027"),
    ("dossier show --json", "In hồ sơ dạng JSON"),
    ("report", "Báo cáo chỉ số số hóa và chỉ số theo sổ tiếp nhận (Quyết định 766/QĐ-TTg) theo cấp, đơn vị, thủ tục, lĩnh vực hoặc tháng; report missing liệt kê hồ sơ còn thiếu bản số hóa"),
    ("report --year", "Một năm, ví dụ 2023"),
    ("report --quarter", "Một quý: 2023-2 hoặc 2023-Q2"),
    ("report --month", "Một tháng: 2023-03"),
    ("report --from", "Ngày tiếp nhận đầu tiên (dd/mm/yyyy hoặc yyyy-mm-dd)"),
    ("report --to", "Ngày tiếp nhận cuối cùng (dd/mm/yyyy hoặc yyyy-mm-dd)"),
    ("report --level", "Chỉ các hồ sơ do đơn vị cấp này tiếp nhận: tinh (tỉnh), huyen (huyện), xa (xã)"),
    ("report --unit", "Chỉ đơn vị này và các đơn vị trực thuộc (mã đơn vị)"),
    ("report --output", "Ghi vào tệp này thay vì in ra màn hình"),
    ("report --signed-only", "Chỉ tính là đã số hóa những bản sao mang chữ ký số hợp lệ của người số hóa (như [report] signed_only = true)"),
    ("report --by", "Mỗi dòng của báo cáo là một: level (cấp), unit (đơn vị), procedure (thủ tục), field (lĩnh vực), month (tháng)"),
    ("report --format", "Dạng báo cáo: text (văn bản), csv, json, html (trang để in, có biểu đồ), xlsx (bảng tính, cần --output)"),
    ("report --json", "Như --format json"),
    ("report missing", "Các hồ sơ tiếp nhận trong kỳ mà chưa được số hóa, theo đơn vị, cũ nhất trước"),
    ("report missing --year", "Một năm, ví dụ 2023"),
    ("report missing --quarter", "Một quý: 2023-2 hoặc 2023-Q2"),
    ("report missing --month", "Một tháng: 2023-03"),
    ("report missing --from", "Ngày tiếp nhận đầu tiên (dd/mm/yyyy hoặc yyyy-mm-dd)"),
    ("report missing --to", "Ngày tiếp nhận cuối cùng (dd/mm/yyyy hoặc yyyy-mm-dd)"),
    ("report missing --level", "Chỉ các hồ sơ do đơn vị cấp này tiếp nhận: tinh (tỉnh), huyen (huyện), xa (xã)"),
    ("report missing --unit", "Chỉ đơn vị này và các đơn vị trực thuộc (mã đơn vị)"),
    ("report missing --output", "Ghi vào tệp này thay vì in ra màn hình"),
    ("report missing --signed-only", "Liệt kê cả những hồ sơ đã số hóa nhưng chưa ký số (như [report] signed_only = true)"),
    ("report missing --format", "Dạng danh sách: text (văn bản), csv, json"),
    ("register", "Sổ tiếp nhận hồ sơ xuất từ hệ thống một cửa"),
    ("register import", "Nhập sổ tiếp nhận (cập nhật theo mã hồ sơ): CSV (dấu phẩy hoặc chấm phẩy, UTF-8) hoặc XLSX"),
    ("register import <FILE>", "Tệp sổ tiếp nhận (.csv hoặc .xlsx)"),
    ("register import --json", "In kết quả nhập dạng JSON"),
    ("units", "Danh mục đơn vị mà báo cáo tổng hợp theo"),
    ("units import", "Thay danh mục đơn vị bằng tệp: .toml (các bảng [[unit]]), .csv hoặc .xlsx (cột Mã đơn vị, Tên đơn vị, Cấp, Mã đơn vị cấp trên, Hiệu lực từ, Hiệu lực đến)"),
    ("units import <FILE>", "Tệp danh mục; không ghi thì dùng units_file của cấu hình (config/units.toml)"),
    ("units list", "In danh mục đơn vị đang dùng"),
    ("serve", "Máy chủ HTTP cho cấp huyện: các trạm gửi tài liệu lên, lãnh đạo xem báo cáo"),
    ("serve --listen", "Địa chỉ lắng nghe"),
    ("serve --tls-cert", "Chuỗi chứng thư PEM: phục vụ qua HTTPS (cùng với --tls-key)"),
    ("serve --tls-key", "Khóa riêng PEM của --tls-cert"),
    ("sync", "Gửi các tài liệu đang chờ trên trạm này lên máy chủ cấp huyện và nhận các dòng sổ tiếp nhận của đơn vị (sohoa watch cũng làm việc này khi có [sync] server)"),
    ("sync --server", "Máy chủ cấp huyện [mặc định: [sync] server của cấu hình]"),
    ("sync --token", "Mã truy cập của trạm [mặc định: [sync] token hoặc SOHOA_SYNC_TOKEN]"),
    ("sync --wait", "Thử lại (giãn dần) trong tối đa SECS giây khi chưa kết nối được máy chủ; 0 = chỉ một lượt"),
    ("sync --retry-refused", "Đưa các tài liệu máy chủ đã từ chối trở lại hàng chờ trước"),
    ("sync --json", "In kết quả dạng JSON"),
    ("sign", "Ký số bằng chữ ký số của người sao các tài liệu hiện hành chưa ký (tên, chức vụ người sao và thời gian sao ở góc trên bên trái trang đầu); bản đã ký đặt cạnh bản chưa ký"),
    ("sign --dossier", "Chỉ các tài liệu của hồ sơ này (ghi nhiều lần được)"),
    ("sign --all", "Tài liệu của mọi hồ sơ"),
    ("sign --officer", "Tên người sao ghi trong khối chữ ký [mặc định: [sign] officer, hoặc tên trong chứng thư số]"),
    ("sign --position", "Chức vụ / vị trí của người sao [mặc định: [sign] position, hoặc chức danh trong chứng thư số]"),
    ("sign --pkcs12", "Tệp khóa PKCS#12 (.p12, .pfx) chứa chứng thư số và khóa riêng [mặc định: [sign] pkcs12]"),
    ("sign --password-file", "Tệp ghi mật khẩu của tệp khóa [mặc định: [sign] password_file, hoặc biến SOHOA_SIGN_PASSWORD, hoặc nhập tại cửa sổ dòng lệnh]"),
    ("sign --pkcs11-module", "Thư viện PKCS#11 của thiết bị ký USB token (trình điều khiển, tệp .so) [mặc định: [sign] pkcs11_module]"),
    ("sign --token-label", "Nhãn của thiết bị ký [mặc định: [sign] token_label]"),
    ("sign --key-label", "Nhãn của khóa, khi thiết bị có nhiều khóa [mặc định: [sign] key_label]"),
    ("sign --pin-file", "Tệp ghi mã PIN của thiết bị ký [mặc định: [sign] pin_file, hoặc biến SOHOA_SIGN_PIN, hoặc nhập tại cửa sổ dòng lệnh]"),
    ("sign --json", "In kết quả dạng JSON"),
    ("sao-y", "Tạo bản SAO Y của cơ quan từ một tài liệu đã có chữ ký người sao (Nghị định 30/2020: \"SAO Y\", tên cơ quan và thời gian ở góc trên bên phải trang đầu)"),
    ("sao-y <DOCUMENT>", "Mã số tài liệu (#N trong sohoa dossier show)"),
    ("sao-y --agency", "Tên cơ quan, ví dụ \"UBND xã Cao Quảng\" [mặc định: [sign] agency]"),
    ("sao-y --pkcs12", "Tệp khóa PKCS#12 (.p12, .pfx) chứa chứng thư số và khóa riêng [mặc định: [sign] pkcs12]"),
    ("sao-y --password-file", "Tệp ghi mật khẩu của tệp khóa [mặc định: [sign] password_file, hoặc biến SOHOA_SIGN_PASSWORD, hoặc nhập tại cửa sổ dòng lệnh]"),
    ("sao-y --pkcs11-module", "Thư viện PKCS#11 của thiết bị ký USB token (trình điều khiển, tệp .so) [mặc định: [sign] pkcs11_module]"),
    ("sao-y --token-label", "Nhãn của thiết bị ký [mặc định: [sign] token_label]"),
    ("sao-y --key-label", "Nhãn của khóa, khi thiết bị có nhiều khóa [mặc định: [sign] key_label]"),
    ("sao-y --pin-file", "Tệp ghi mã PIN của thiết bị ký [mặc định: [sign] pin_file, hoặc biến SOHOA_SIGN_PIN, hoặc nhập tại cửa sổ dòng lệnh]"),
    ("sao-y --json", "In kết quả dạng JSON"),
    ("verify", "Kiểm tra chữ ký số của các bản sao PDF đã ký: phần nội dung được ký, giá trị chữ ký, chuỗi chứng thư và việc chữ ký bao trùm toàn bộ tệp"),
    ("verify <FILES>", "Các tệp PDF"),
    ("verify --trust", "Tệp PEM chứng thư của tổ chức chứng thực được tin cậy [mặc định: [sign] trust_anchors]"),
    ("verify --json", "In kết quả dạng JSON"),
    ("station", "Các trạm (bộ phận một cửa, máy xử lý) được gọi sohoa serve"),
    ("station add", "Tạo trạm của một đơn vị và in mã truy cập của trạm, một lần duy nhất, một mình ở dòng cuối"),
    ("station add <NAME>", "Tên trạm, ví dụ xa-cao-quang"),
    ("station add --unit", "Mã đơn vị của trạm; trạm chỉ xem và gửi hồ sơ của đơn vị này và các đơn vị trực thuộc"),
    ("station add --monitor", "Mã truy cập được đọc cả số liệu của máy chủ (/metrics), để giám sát"),
    ("station list", "Liệt kê các trạm, đơn vị và số tài liệu mỗi trạm đã gửi"),
    ("station list --json", "In danh sách dạng JSON"),
    ("station revoke", "Thu hồi mã truy cập của một trạm: từ nay các yêu cầu của trạm bị từ chối"),
    ("station revoke <NAME>", "Tên trạm"),
    ("config", "In các thiết lập đang có hiệu lực"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        out.push(path.to_string());
        for a in cmd.get_arguments() {
            if a.get_id() != "help" && a.get_id() != "version" {
                out.push(arg_key(path, a));
            }
        }
        for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let sub = if path.is_empty() {
                s.get_name().to_string()
            } else {
                format!("{path} {}", s.get_name())
            };
            keys(s, &sub, out);
        }
    }

    /// Every command and argument has its Vietnamese text, and the catalogue
    /// names nothing that is gone.
    #[test]
    fn every_command_and_argument_has_a_vietnamese_text() {
        let mut all = Vec::new();
        let mut cmd = Cli::command();
        cmd.build();
        keys(&cmd, "", &mut all);
        // Global arguments are copied into every subcommand: their text is the root's.
        let globals = ["--config", "--data-dir", "--database-url", "--ui-language"];
        let wanted: Vec<&String> = all
            .iter()
            .filter(|k| !globals.iter().any(|g| k.ends_with(g) && k.as_str() != *g))
            .collect();
        let missing: Vec<&&String> = wanted.iter().filter(|k| text(k).is_none()).collect();
        assert!(missing.is_empty(), "no Vietnamese text for {missing:?}");
        let unused: Vec<&str> = VI
            .iter()
            .map(|(k, _)| *k)
            .filter(|k| !all.iter().any(|a| a == k))
            .collect();
        assert!(unused.is_empty(), "texts for nothing: {unused:?}");
        for (k, t) in VI {
            assert!(unicode_normalization::is_nfc(t), "{k}: not NFC");
        }
        command(UiLanguage::Vi).debug_assert();
        command(UiLanguage::En).debug_assert();
    }

    fn help_of(args: &[&str]) -> String {
        let mut cmd = command(UiLanguage::Vi);
        let e = cmd
            .try_get_matches_from_mut(args.iter().copied())
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::DisplayHelp);
        e.to_string()
    }

    #[test]
    fn help_reads_in_vietnamese() {
        let h = help_of(&["sohoa", "report", "missing", "--help"]);
        for want in [
            "Cách dùng: sohoa report missing [TÙY CHỌN]",
            "Tùy chọn:",
            "Một năm, ví dụ 2023",
            "Dạng danh sách: text (văn bản), csv, json [mặc định: text]",
            "In trợ giúp này",
        ] {
            assert!(h.contains(want), "{want:?} not in\n{h}");
        }
        for english in [
            "Usage:",
            "Options:",
            "Print help",
            "[default:",
            "[possible values",
        ] {
            assert!(!h.contains(english), "{english:?} in\n{h}");
        }
        let h = help_of(&["sohoa", "dossier", "show", "-h"]);
        assert!(
            h.contains("Tham số:") && h.contains("Mã hồ sơ, ví dụ"),
            "{h}"
        );
        assert!(
            h.contains("Cách dùng: sohoa dossier show [TÙY CHỌN] <CODE>"),
            "{h}"
        );
        let h = help_of(&["sohoa", "--help"]);
        assert!(h.contains("Lệnh:") && h.contains("report"), "{h}");
        assert!(h.contains("Tùy chọn chung:"), "{h}");
        assert!(h.contains("In phiên bản của sohoa"), "{h}");
    }

    fn error_of(args: &[&str]) -> String {
        let e = command(UiLanguage::Vi)
            .try_get_matches_from(args.iter().copied())
            .unwrap_err();
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        usage_error(&e, &args)
    }

    #[test]
    fn usage_errors_read_in_vietnamese() {
        let e = error_of(&["sohoa", "report", "--yaer", "2023"]);
        assert!(
            e.starts_with("sohoa: lệnh này không có tùy chọn --yaer; có phải ý bạn là --year?"),
            "{e}"
        );
        assert!(e.contains("Xem thêm: sohoa report --help"), "{e}");
        let e = error_of(&["sohoa", "report", "--format", "pdf"]);
        assert!(
            e.contains("giá trị \"pdf\" không hợp lệ cho --format")
                && e.contains("hãy chọn một trong: text, csv, json, html, xlsx"),
            "{e}"
        );
        let e = error_of(&["sohoa", "dossier", "show"]);
        assert!(e.starts_with("sohoa: thiếu <CODE>"), "{e}");
        let e = error_of(&["sohoa", "reprot"]);
        assert!(
            e.contains("không có lệnh reprot; có phải ý bạn là report?"),
            "{e}"
        );
        let e = error_of(&["sohoa", "batch", "x", "--jobs", "hai"]);
        assert!(
            e.contains("giá trị \"hai\" của --jobs không đọc được"),
            "{e}"
        );
        assert!(
            e.contains("Cách dùng: sohoa batch [TÙY CHỌN] <INBOXES…>"),
            "{e}"
        );
        assert!(!e.contains("error:") && !e.contains("Usage:"), "{e}");
    }

    #[test]
    fn the_help_language_is_read_before_parsing() {
        let os = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            language(&os(&["sohoa", "--ui-language", "en", "report"])),
            UiLanguage::En
        );
        assert_eq!(
            language(&os(&["sohoa", "report", "--ui-language=en"])),
            UiLanguage::En
        );
        assert_eq!(
            language(&os(&["sohoa", "--ui-language", "vi"])),
            UiLanguage::Vi
        );
        assert_eq!(
            help_subcommand(os(&["sohoa", "help", "report"])),
            os(&["sohoa", "report", "--help"])
        );
    }
}
