//! Kubernetes resource quantities (`250m`, `1.5Gi`, `2e3`) as numbers, for the quota and
//! limit range admission checks, printed back in the canonical form the API server uses
//! in its messages (`1000m` prints as `1`, `2048Mi` as `2Gi`).
//!
//! Values are kept in thousandths of a unit, rounded up, as upstream rounds a quantity
//! it cannot hold exactly: <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>.
//!
//! Written here rather than taken from `kube_quantity`: that crate parses and adds
//! quantities but prints them as they were written (`1000m` stays `1000m`), while quota
//! and limit range refusals must name amounts in the API server's canonical form, which
//! needs the value and the suffix family that parsing found.

use std::fmt;
use std::ops::{Add, Sub};

/// How a quantity prints: with binary suffixes (`Ki`, `Mi`, ...) or decimal ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Format {
    #[default]
    Decimal,
    Binary,
}

/// A quantity, in thousandths of its unit. Equal quantities are equal whatever their
/// suffixes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quantity {
    millis: i128,
    format: Format,
}

impl Quantity {
    /// `n` whole units (an object count).
    pub fn count(n: usize) -> Self {
        Self {
            millis: i128::try_from(n).unwrap_or(i128::MAX / 2) * 1000,
            format: Format::Decimal,
        }
    }

    /// Parses a quantity string; `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (sign, rest) = match text.as_bytes().first()? {
            b'-' => (-1, &text[1..]),
            b'+' => (1, &text[1..]),
            _ => (1, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let digits = format!("{whole}{fraction}");
        if digits.len() > 30 {
            return None;
        }
        let mantissa: i128 = digits.parse().ok()?;
        let scale = u32::try_from(fraction.len()).ok()?;
        let (num, den, format) = multiplier(suffix)?;
        // millis = ceil(mantissa * num * 1000 / (den * 10^scale))
        let top = mantissa.checked_mul(num)?.checked_mul(1000)?;
        let bottom = den.checked_mul(10i128.checked_pow(scale)?)?;
        let millis = (top + bottom - 1) / bottom;
        Some(Self {
            millis: sign * millis,
            format,
        })
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.millis == 0
    }

    /// `self / other` as a float (for limit-to-request ratios).
    pub fn ratio(self, other: Self) -> f64 {
        self.millis as f64 / other.millis as f64
    }

    /// This quantity, never below zero.
    pub fn non_negative(self) -> Self {
        Self {
            millis: self.millis.max(0),
            ..self
        }
    }
}

fn multiplier(suffix: &str) -> Option<(i128, i128, Format)> {
    let binary = |power: u32| Some((1024i128.pow(power), 1, Format::Binary));
    let decimal = |exp: i32| {
        if exp >= 0 {
            Some((10i128.pow(exp.unsigned_abs()), 1, Format::Decimal))
        } else {
            Some((1, 10i128.pow(exp.unsigned_abs()), Format::Decimal))
        }
    };
    match suffix {
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        exponent => {
            let exp: i32 = exponent.strip_prefix(['e', 'E'])?.parse().ok()?;
            if !(-9..=18).contains(&exp) {
                return None;
            }
            decimal(exp)
        }
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.millis == other.millis
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.millis.cmp(&other.millis))
    }
}

impl Add for Quantity {
    type Output = Self;
    /// Keeps the format of the left side, as upstream's `Add` does, unless it is a zero
    /// that nothing was added to yet.
    fn add(self, other: Self) -> Self {
        Self {
            millis: self.millis.saturating_add(other.millis),
            format: if self.is_zero() {
                other.format
            } else {
                self.format
            },
        }
    }
}

impl Sub for Quantity {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Self {
            millis: self.millis.saturating_sub(other.millis),
            format: self.format,
        }
    }
}

impl fmt::Display for Quantity {
    /// The canonical form: the largest suffix that keeps the number whole.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.millis;
        if millis == 0 {
            return f.write_str("0");
        }
        if millis % 1000 != 0 {
            return write!(f, "{millis}m");
        }
        let units = millis / 1000;
        if self.format == Format::Binary && units.abs() >= 1024 {
            let mut value = units;
            let mut power = 0;
            while value % 1024 == 0 && power < 6 {
                value /= 1024;
                power += 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
            return write!(f, "{value}{suffix}");
        }
        if self.format == Format::Binary {
            return write!(f, "{units}");
        }
        let mut value = units;
        let mut power = 0;
        while value % 1000 == 0 && power < 6 {
            value /= 1000;
            power += 1;
        }
        let suffix = ["", "k", "M", "G", "T", "P", "E"][power];
        write!(f, "{value}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        Quantity::parse(text).unwrap_or_else(|| panic!("{text} parses"))
    }

    #[test]
    fn quantities_print_in_the_api_servers_canonical_form() {
        for (given, canonical) in [
            ("250m", "250m"),
            ("1000m", "1"),
            ("0.5", "500m"),
            ("2048Mi", "2Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("512", "512"),
            ("2000", "2k"),
            ("1e3", "1k"),
            ("0", "0"),
        ] {
            assert_eq!(q(given).to_string(), canonical, "{given}");
        }
    }

    #[test]
    fn quantities_compare_and_add_across_suffixes() {
        assert!(q("1Gi") > q("1G"));
        assert_eq!(q("500m") + q("0.5"), q("1"));
        assert_eq!((Quantity::default() + q("1Gi")).to_string(), "1Gi");
        assert_eq!((q("1Gi") - q("512Mi")).to_string(), "512Mi");
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for bad in ["", "abc", "1.2.3", "1Xi", "1e99", "."] {
            assert!(Quantity::parse(bad).is_none(), "{bad}");
        }
    }
}
