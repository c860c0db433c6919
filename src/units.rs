//! The unit tree reports roll up on: codes, names, level (tỉnh, huyện, xã),
//! parent and validity dates. A unit code alone cannot tell a level (QCVN 102
//! puts provincial departments and district committees on the same code
//! level), so the tree decides; dated rows keep past periods right across
//! reorganisations such as the two-tier government of 07/2025.

use crate::format::UiLanguage;
use crate::tabular::{fold, parse_date, Table};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Tinh,
    Huyen,
    Xa,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Tinh => "tinh",
            Level::Huyen => "huyen",
            Level::Xa => "xa",
        }
    }

    /// `tinh`, `tỉnh`, `Cấp tỉnh`, … (accent- and case-insensitive).
    pub fn parse(s: &str) -> Option<Level> {
        let f = fold(s);
        match f.strip_prefix("cap").unwrap_or(&f) {
            "tinh" => Some(Level::Tinh),
            "huyen" => Some(Level::Huyen),
            "xa" => Some(Level::Xa),
            _ => None,
        }
    }

    /// "Cấp huyện" / "District level".
    pub fn label(self, lang: UiLanguage) -> &'static str {
        match (self, lang) {
            (Level::Tinh, UiLanguage::Vi) => "Cấp tỉnh",
            (Level::Huyen, UiLanguage::Vi) => "Cấp huyện",
            (Level::Xa, UiLanguage::Vi) => "Cấp xã",
            (Level::Tinh, UiLanguage::En) => "Province level",
            (Level::Huyen, UiLanguage::En) => "District level",
            (Level::Xa, UiLanguage::En) => "Commune level",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub level: Level,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// First day in force (inclusive); `None` = since ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<NaiveDate>,
    /// Last day in force (inclusive); `None` = still in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<NaiveDate>,
}

impl Unit {
    pub fn valid_on(&self, d: NaiveDate) -> bool {
        self.valid_from.is_none_or(|f| f <= d) && self.valid_to.is_none_or(|t| d <= t)
    }

    /// True when the unit is in force on some day of `[from, to]` (open ends allowed).
    pub fn overlaps(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
        let starts_before_end = match (self.valid_from, to) {
            (Some(f), Some(t)) => f <= t,
            _ => true,
        };
        let ends_after_start = match (self.valid_to, from) {
            (Some(t), Some(f)) => f <= t,
            _ => true,
        };
        starts_before_end && ends_after_start
    }
}

/// A unit tree, checked: codes resolve to one row per day, parents exist and
/// cover their children's validity, no cycles.
#[derive(Debug, Clone, Default)]
pub struct UnitTree {
    units: Vec<Unit>,
    by_code: HashMap<String, Vec<usize>>,
    parent: Vec<Option<usize>>,
}

/// Why a unit list was refused, per unit (operator-facing).
#[derive(Debug, Clone, PartialEq)]
pub struct TreeProblem {
    /// Line of the import file, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl UnitTree {
    pub fn new(units: Vec<Unit>, lang: UiLanguage) -> Result<UnitTree, Vec<TreeProblem>> {
        let vi = lang == UiLanguage::Vi;
        let mut problems = Vec::new();
        let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, u) in units.iter().enumerate() {
            let clash = by_code.get(&u.code).into_iter().flatten().find(|&&j| {
                let o = &units[j];
                u.overlaps(o.valid_from, o.valid_to)
            });
            if let Some(&j) = clash {
                problems.push(TreeProblem {
                    line: None,
                    message: if vi {
                        format!(
                            "Đơn vị {} có hai dòng hiệu lực chồng lên nhau ({} và {})",
                            u.code, units[j].name, u.name
                        )
                    } else {
                        format!(
                            "Unit {} has two rows in force at the same time ({} and {})",
                            u.code, units[j].name, u.name
                        )
                    },
                });
            }
            if let (Some(f), Some(t)) = (u.valid_from, u.valid_to) {
                if f > t {
                    problems.push(TreeProblem {
                        line: None,
                        message: if vi {
                            format!("Đơn vị {}: ngày hiệu lực từ sau ngày hiệu lực đến", u.code)
                        } else {
                            format!("Unit {}: valid from is after valid to", u.code)
                        },
                    });
                }
            }
            by_code.entry(u.code.clone()).or_default().push(i);
        }
        let mut tree = UnitTree {
            parent: vec![None; units.len()],
            units,
            by_code,
        };
        for i in 0..tree.units.len() {
            let u = &tree.units[i];
            let Some(p) = &u.parent else { continue };
            // The parent row in force when the child starts (or any row of that code).
            let found = match u.valid_from {
                Some(d) => tree.at(p, d),
                None => None,
            }
            .or_else(|| tree.by_code.get(p).and_then(|v| v.first().copied()));
            match found {
                Some(j) if j != i => tree.parent[i] = Some(j),
                _ => problems.push(TreeProblem {
                    line: None,
                    message: if vi {
                        format!(
                            "Đơn vị {} ({}): không có đơn vị cấp trên {}",
                            u.code, u.name, p
                        )
                    } else {
                        format!("Unit {} ({}): parent {} not found", u.code, u.name, p)
                    },
                }),
            }
        }
        for i in 0..tree.units.len() {
            let mut seen = 0;
            let mut at = tree.parent[i];
            while let Some(j) = at {
                seen += 1;
                if j == i || seen > tree.units.len() {
                    problems.push(TreeProblem {
                        line: None,
                        message: if vi {
                            format!(
                                "Đơn vị {} nằm trong một vòng cấp trên – cấp dưới",
                                tree.units[i].code
                            )
                        } else {
                            format!("Unit {} is part of a parent cycle", tree.units[i].code)
                        },
                    });
                    break;
                }
                at = tree.parent[j];
            }
        }
        if problems.is_empty() {
            Ok(tree)
        } else {
            Err(problems)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn unit(&self, i: usize) -> &Unit {
        &self.units[i]
    }

    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent[i]
    }

    /// The row of `code` in force on `date`.
    pub fn at(&self, code: &str, date: NaiveDate) -> Option<usize> {
        self.by_code
            .get(code)?
            .iter()
            .copied()
            .find(|&i| self.units[i].valid_on(date))
    }

    pub fn knows(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// Up to `n` rows whose codes are closest to `code` (edit distance, then
    /// code), one per code, preferring the row in force on `date`: what an
    /// operator who mistyped a unit code most likely meant.
    pub fn closest(&self, code: &str, date: Option<NaiveDate>, n: usize) -> Vec<usize> {
        let mut codes: Vec<(&String, &Vec<usize>)> = self.by_code.iter().collect();
        codes.sort_by_key(|(c, _)| (strsim::levenshtein(code, c), c.as_str()));
        codes
            .into_iter()
            .take(n)
            .map(|(c, rows)| {
                date.and_then(|d| self.at(c, d))
                    .unwrap_or_else(|| *rows.last().expect("a code has rows"))
            })
            .collect()
    }

    /// Depth from the root (roots are 0).
    pub fn depth(&self, i: usize) -> usize {
        let mut d = 0;
        let mut at = self.parent[i];
        while let Some(j) = at {
            d += 1;
            at = self.parent[j];
        }
        d
    }

    /// Children of `i` (or roots for `None`) in tree order: by level, then
    /// code. A district's departments (its own level) come before its
    /// communes, whatever their codes, as official reports list them.
    pub fn children(&self, i: Option<usize>) -> Vec<usize> {
        let mut c: Vec<usize> = (0..self.units.len())
            .filter(|&j| self.parent[j] == i)
            .collect();
        let key = |j: usize| {
            let u = &self.units[j];
            (u.level, u.code.as_str(), u.valid_from)
        };
        c.sort_by(|&a, &b| key(a).cmp(&key(b)));
        c
    }

    /// Codes of every row at or under any row of `code` (the code itself included).
    pub fn subtree_codes(&self, code: &str) -> Vec<String> {
        let roots: Vec<usize> = self.by_code.get(code).cloned().unwrap_or_default();
        let mut out = vec![code.to_string()];
        let mut stack = roots;
        while let Some(i) = stack.pop() {
            for j in self.children(Some(i)) {
                if !out.contains(&self.units[j].code) {
                    out.push(self.units[j].code.clone());
                }
                stack.push(j);
            }
        }
        out
    }

    /// Dates on which some unit starts or stops being in force (the day after
    /// `valid_to`), sorted: between two of them every code maps to one row.
    pub fn breakpoints(&self) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = self
            .units
            .iter()
            .flat_map(|u| [u.valid_from, u.valid_to.and_then(|t| t.succ_opt())])
            .flatten()
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// `config/units.toml`: `[[unit]]` tables.
pub fn from_toml(text: &str) -> Result<Vec<Unit>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        #[serde(default)]
        unit: Vec<Unit>,
    }
    toml::from_str::<File>(text)
        .map(|f| f.unit)
        .map_err(|e| e.to_string())
}

/// The CSV/XLSX form: headers `Mã đơn vị`, `Tên đơn vị`, `Cấp`, `Mã đơn vị cấp
/// trên`, `Hiệu lực từ`, `Hiệu lực đến`. Every bad row is named.
pub fn from_table(t: Table, lang: UiLanguage) -> Result<Vec<Unit>, Vec<TreeProblem>> {
    let vi = lang == UiLanguage::Vi;
    let t = t.find_header(&[
        &["Mã đơn vị", "code"],
        &["Tên đơn vị", "name"],
        &["Cấp", "level"],
    ]);
    let col = |names: &[&str]| t.column(names);
    let (Some(code), Some(name), Some(level)) = (
        col(&["Mã đơn vị", "code"]),
        col(&["Tên đơn vị", "name"]),
        col(&["Cấp", "level"]),
    ) else {
        return Err(vec![TreeProblem {
            line: Some(1),
            message: if vi {
                format!("Thiếu cột bắt buộc: cần có các cột \"Mã đơn vị\", \"Tên đơn vị\", \"Cấp\"; tệp có: {}", t.headers.join(", "))
            } else {
                format!("Missing required columns \"Mã đơn vị\", \"Tên đơn vị\", \"Cấp\"; the file has: {}", t.headers.join(", "))
            },
        }]);
    };
    let parent = col(&["Mã đơn vị cấp trên", "parent"]);
    let from = col(&["Hiệu lực từ", "valid_from"]);
    let to = col(&["Hiệu lực đến", "valid_to"]);
    let mut units = Vec::new();
    let mut problems = Vec::new();
    for row in &t.rows {
        let cell = |i: Option<usize>| {
            i.and_then(|i| row.cells.get(i))
                .map(String::as_str)
                .unwrap_or("")
        };
        let mut bad = |what: String| {
            problems.push(TreeProblem {
                line: Some(row.line),
                message: what,
            })
        };
        let date = |i: Option<usize>| -> Result<Option<NaiveDate>, String> {
            let s = cell(i);
            if s.is_empty() {
                return Ok(None);
            }
            parse_date(s).map(Some).ok_or_else(|| s.to_string())
        };
        if cell(Some(code)).is_empty() || cell(Some(name)).is_empty() {
            bad(if vi {
                "thiếu mã hoặc tên đơn vị".into()
            } else {
                "missing unit code or name".into()
            });
            continue;
        }
        let Some(lv) = Level::parse(cell(Some(level))) else {
            bad(if vi {
                format!(
                    "cấp \"{}\" không hợp lệ (dùng tinh, huyen hoặc xa)",
                    cell(Some(level))
                )
            } else {
                format!(
                    "invalid level \"{}\" (use tinh, huyen or xa)",
                    cell(Some(level))
                )
            });
            continue;
        };
        let (valid_from, valid_to) = match (date(from), date(to)) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(s), _) | (_, Err(s)) => {
                bad(if vi {
                    format!("ngày hiệu lực \"{s}\" không hợp lệ (dd/mm/yyyy hoặc yyyy-mm-dd)")
                } else {
                    format!("invalid date \"{s}\" (dd/mm/yyyy or yyyy-mm-dd)")
                });
                continue;
            }
        };
        units.push(Unit {
            code: cell(Some(code)).to_string(),
            name: cell(Some(name)).to_string(),
            level: lv,
            parent: Some(cell(parent).to_string()).filter(|p| !p.is_empty()),
            valid_from,
            valid_to,
        });
    }
    if problems.is_empty() {
        Ok(units)
    } else {
        Err(problems)
    }
}

/// Reads a unit list from `.toml`, `.csv` or `.xlsx`.
pub fn read_file(path: &Path, lang: UiLanguage) -> Result<Vec<Unit>, Vec<TreeProblem>> {
    let one = |message: String| {
        vec![TreeProblem {
            line: None,
            message,
        }]
    };
    if path.extension().is_some_and(|e| e == "toml") {
        let text =
            std::fs::read_to_string(path).map_err(|e| one(format!("{}: {e}", path.display())))?;
        return from_toml(&text).map_err(|e| one(format!("{}: {e}", path.display())));
    }
    let table = Table::read(path).map_err(|e| one(e.to_string()))?;
    from_table(table, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn shipped() -> UnitTree {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/units.toml"))
                .unwrap();
        UnitTree::new(from_toml(&text).unwrap(), UiLanguage::Vi).unwrap()
    }

    #[test]
    fn closest_units_to_a_mistyped_code() {
        let t = shipped();
        let c = t.closest("000.99.18.H44", Some(d("2023-12-01")), 3);
        assert_eq!(c.len(), 3);
        // One edit away: 000.29.18.H44, 000.39.18.H44 … come before the district.
        for &i in &c {
            let code = &t.unit(i).code;
            assert!(strsim::levenshtein("000.99.18.H44", code) <= 2, "{code}");
        }
        // A code in force on the date is given by its row of that date.
        let c = t.closest("000.00.18.H44", Some(d("2023-03-14")), 1);
        assert_eq!(t.unit(c[0]).code, "000.00.18.H44");
        assert!(t.unit(c[0]).valid_on(d("2023-03-14")));
    }

    #[test]
    fn shipped_tree_has_the_district_and_its_19_communes_until_07_2025() {
        let t = shipped();
        let district = t.at("000.00.18.H44", d("2023-03-14")).unwrap();
        assert_eq!(t.unit(district).level, Level::Huyen);
        let communes = t
            .children(Some(district))
            .into_iter()
            .filter(|&i| t.unit(i).level == Level::Xa)
            .count();
        assert_eq!(communes, 19);
        // Tree order: the district's own-level units (departments, public
        // units numbered 000.40 and up) before its communes (000.20–000.38).
        let levels: Vec<Level> = t
            .children(Some(district))
            .into_iter()
            .map(|i| t.unit(i).level)
            .collect();
        assert_eq!(levels.iter().filter(|&&l| l == Level::Huyen).count(), 21);
        assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
        // A department shares the district's code level but is a district-level unit under it.
        let dept = t.at("000.01.18.H44", d("2023-03-14")).unwrap();
        assert_eq!(t.unit(dept).level, Level::Huyen);
        assert_eq!(t.parent(dept), Some(district));
        let sở = t.at("000.00.01.H44", d("2023-03-14")).unwrap();
        assert_eq!(t.unit(sở).level, Level::Tinh);
        // After 07/2025 the district is gone and communes sit under the province.
        assert_eq!(t.at("000.00.18.H44", d("2025-07-01")), None);
        let new_commune = t.at("000.01.00.H50", d("2025-07-01")).unwrap();
        assert_eq!(t.unit(new_commune).level, Level::Xa);
        assert_eq!(t.depth(new_commune), 1);
        assert_eq!(t.at("000.01.00.H50", d("2025-06-30")), None);
        assert!(t.breakpoints().contains(&d("2025-07-01")));
    }

    #[test]
    fn levels_parse_with_or_without_accents() {
        assert_eq!(Level::parse("xã"), Some(Level::Xa));
        assert_eq!(Level::parse("Cấp huyện"), Some(Level::Huyen));
        assert_eq!(Level::parse("TINH"), Some(Level::Tinh));
        assert_eq!(Level::parse("thôn"), None);
    }

    fn unit(code: &str, level: Level, parent: Option<&str>) -> Unit {
        Unit {
            code: code.into(),
            name: format!("Đơn vị {code}"),
            level,
            parent: parent.map(Into::into),
            valid_from: None,
            valid_to: None,
        }
    }

    #[test]
    fn bad_trees_are_refused_with_reasons() {
        let e = UnitTree::new(vec![unit("A", Level::Xa, Some("B"))], UiLanguage::Vi).unwrap_err();
        assert!(e[0].message.contains("không có đơn vị cấp trên B"), "{e:?}");
        let e = UnitTree::new(
            vec![
                unit("A", Level::Xa, Some("B")),
                unit("B", Level::Huyen, Some("A")),
            ],
            UiLanguage::Vi,
        )
        .unwrap_err();
        assert!(e.iter().any(|p| p.message.contains("vòng")), "{e:?}");
        let e = UnitTree::new(
            vec![unit("A", Level::Xa, None), unit("A", Level::Xa, None)],
            UiLanguage::Vi,
        )
        .unwrap_err();
        assert!(e[0].message.contains("chồng lên nhau"), "{e:?}");
    }

    #[test]
    fn csv_import_with_vietnamese_headers() {
        let text = "Mã đơn vị,Tên đơn vị,Cấp,Mã đơn vị cấp trên,Hiệu lực từ,Hiệu lực đến\n\
                    T,UBND tỉnh,tinh,,,\n\
                    H,UBND huyện,huyện,T,,30/06/2025\n\
                    X,UBND xã,xa,H,01/01/2020,30/06/2025\n\
                    Y,UBND xã mới,xã,T,2025-07-01,\n\
                    Z,Thôn,thon,H,,\n\
                    W,UBND xã W,xa,H,32/01/2020,\n";
        let t = crate::tabular::read_csv(text.as_bytes(), "u.csv").unwrap();
        let e = from_table(t, UiLanguage::Vi).unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].line, Some(6));
        assert!(e[0].message.contains("thon"));
        assert_eq!(e[1].line, Some(7));
        let good = text.lines().take(5).collect::<Vec<_>>().join("\n");
        let t = crate::tabular::read_csv(good.as_bytes(), "u.csv").unwrap();
        let units = from_table(t, UiLanguage::Vi).unwrap();
        let tree = UnitTree::new(units, UiLanguage::Vi).unwrap();
        assert_eq!(
            tree.unit(tree.at("X", d("2023-01-01")).unwrap()).valid_to,
            Some(d("2025-06-30"))
        );
        assert_eq!(tree.subtree_codes("T").len(), 4);
        assert_eq!(tree.subtree_codes("H"), vec!["H", "X"]);
    }
}
