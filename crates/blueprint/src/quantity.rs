//! CPU and byte quantities as numbers, so plan sizes can be added up and compared before
//! they become Kubernetes `Quantity` strings.
//!
//! Only the forms storeplane writes are accepted: CPU as cores (`2`) or millicores
//! (`250m`), bytes as a plain number or with a binary suffix (`512Mi`, `10Gi`). See
//! <https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/>.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A quantity that is not in one of the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {given:?}: expected {expected}")]
pub struct InvalidQuantity {
    pub given: String,
    pub expected: &'static str,
}

/// CPU in millicores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cpu(pub u64);

impl Cpu {
    /// `n` millicores.
    pub const fn millis(n: u64) -> Self {
        Self(n)
    }

    /// `n` whole cores.
    pub const fn cores(n: u64) -> Self {
        Self(n * 1000)
    }

    /// The Kubernetes form of this quantity.
    pub fn quantity(self) -> Quantity {
        Quantity(self.to_string())
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) {
            write!(f, "{}", self.0 / 1000)
        } else {
            write!(f, "{}m", self.0)
        }
    }
}

impl FromStr for Cpu {
    type Err = InvalidQuantity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidQuantity {
            given: s.to_owned(),
            expected: "whole cores (\"2\") or millicores (\"250m\")",
        };
        let value = match s.strip_suffix('m') {
            Some(millis) => millis.parse::<u64>().map_err(|_| invalid())?,
            None => s
                .parse::<u64>()
                .ok()
                .and_then(|cores| cores.checked_mul(1000))
                .ok_or_else(invalid)?,
        };
        Ok(Self(value))
    }
}

/// A number of bytes (memory or storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

const KI: u64 = 1 << 10;
const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;
const TI: u64 = 1 << 40;
const SUFFIXES: [(&str, u64); 4] = [("Ti", TI), ("Gi", GI), ("Mi", MI), ("Ki", KI)];

impl Bytes {
    /// `n` mebibytes.
    pub const fn mebi(n: u64) -> Self {
        Self(n * MI)
    }

    /// `n` gibibytes.
    pub const fn gibi(n: u64) -> Self {
        Self(n * GI)
    }

    /// The Kubernetes form of this quantity.
    pub fn quantity(self) -> Quantity {
        Quantity(self.to_string())
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The largest suffix that divides the value exactly, so the text round-trips.
        match SUFFIXES
            .iter()
            .find(|(_, unit)| self.0 != 0 && self.0.is_multiple_of(*unit))
        {
            Some((suffix, unit)) => write!(f, "{}{suffix}", self.0 / unit),
            None => write!(f, "{}", self.0),
        }
    }
}

impl FromStr for Bytes {
    type Err = InvalidQuantity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidQuantity {
            given: s.to_owned(),
            expected: "bytes, optionally with a suffix Ki, Mi, Gi or Ti (\"512Mi\")",
        };
        let (digits, unit) = SUFFIXES
            .iter()
            .find_map(|(suffix, unit)| s.strip_suffix(suffix).map(|d| (d, *unit)))
            .unwrap_or((s, 1));
        digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(unit))
            .map(Self)
            .ok_or_else(invalid)
    }
}

macro_rules! serde_as_text {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(Cpu);
serde_as_text!(Bytes);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_round_trips_through_its_text_form() {
        for text in ["250m", "1", "1500m", "4"] {
            assert_eq!(text.parse::<Cpu>().unwrap().to_string(), text);
        }
        assert_eq!("2000m".parse::<Cpu>().unwrap(), Cpu::cores(2));
    }

    #[test]
    fn bytes_use_the_largest_exact_binary_suffix() {
        assert_eq!(Bytes::mebi(1024).to_string(), "1Gi");
        assert_eq!(Bytes::mebi(1536).to_string(), "1536Mi");
        assert_eq!("10Gi".parse::<Bytes>().unwrap(), Bytes::gibi(10));
        assert_eq!("123".parse::<Bytes>().unwrap(), Bytes(123));
    }

    #[test]
    fn malformed_quantities_are_rejected() {
        assert!("1.5".parse::<Cpu>().is_err());
        assert!("m".parse::<Cpu>().is_err());
        assert!("1G".parse::<Bytes>().is_err());
        assert!("-1Mi".parse::<Bytes>().is_err());
    }
}
