//! Natural order for page files: `trang-2` before `trang-10`.

use std::cmp::Ordering;

/// Compares names so that runs of digits compare by value, letters ignoring
/// case; exact ties are broken by the plain text so the order is total.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    loose_cmp(a, b).then_with(|| a.cmp(b))
}

fn loose_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        match (a.peek().copied(), b.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = take_number(&mut a);
                let nb = take_number(&mut b);
                // Compare by value (ignoring leading zeros), then by length.
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let ord = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            (Some(x), Some(y)) => {
                let ord = x.to_lowercase().cmp(y.to_lowercase());
                if ord != Ordering::Equal {
                    return ord;
                }
                a.next();
                b.next();
            }
        }
    }
}

fn take_number(it: &mut std::iter::Peekable<std::str::Chars>) -> String {
    let mut s = String::new();
    while let Some(c) = it.peek().copied().filter(char::is_ascii_digit) {
        s.push(c);
        it.next();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_in_natural_order() {
        let mut v = vec![
            "trang-10.jpg",
            "trang-2.jpg",
            "trang-1.jpg",
            "Trang-3.jpg",
            "trang-02b.jpg",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "trang-1.jpg",
                "trang-2.jpg",
                "trang-02b.jpg",
                "Trang-3.jpg",
                "trang-10.jpg"
            ]
        );
    }

    #[test]
    fn order_is_total_and_consistent() {
        let names = [
            "a1", "a01", "a001", "a1b", "a10", "a2", "b", "A", "", "1", "01", "x9y", "x10y",
        ];
        for x in names {
            assert_eq!(natural_cmp(x, x), Ordering::Equal);
            for y in names {
                assert_eq!(natural_cmp(x, y), natural_cmp(y, x).reverse(), "{x} {y}");
            }
        }
    }
}
