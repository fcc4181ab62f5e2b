//! IPv4 CIDR blocks: reading the ones an intent writes out ("a VPC with
//! 10.20.0.0/16"), checking that a subnet lies inside its VPC, and carving
//! the default subnets out of a VPC block the way Terraform's `cidrsubnet`
//! would, so that the defaults written into `variables.tf` are plain,
//! reviewable values rather than expressions.

use std::fmt;

/// Bits added to the VPC prefix for each default subnet: 16 subnets, so a
/// `/16` VPC gives `/20` subnets of 4,096 addresses each.
pub const SUBNET_NEWBITS: u8 = 4;

/// Index of the first private subnet among the carved ones: public subnets
/// take 0-5 and private ones 8-13, so either tier can grow to
/// [`crate::ask::MAX_SUBNETS_PER_TIER`] without renumbering the other.
pub const PRIVATE_OFFSET: u32 = 8;

/// Widest VPC block AWS accepts.
pub const MIN_VPC_PREFIX: u8 = 16;

/// Narrowest VPC block carved into default subnets: a `/24` still leaves
/// `/28` subnets, the smallest AWS accepts.
pub const MAX_VPC_PREFIX: u8 = 24;

/// An IPv4 network: base address and prefix length, the base aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Reads `a.b.c.d/p`; the host bits must be zero, as AWS requires.
    pub fn parse(text: &str) -> Option<Self> {
        let (address, prefix) = text.split_once('/')?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        let octets: Vec<u8> = address
            .split('.')
            .map(|o| {
                o.parse::<u8>()
                    .ok()
                    .filter(|_| !o.is_empty() && o.len() <= 3)
            })
            .collect::<Option<_>>()?;
        let [a, b, c, d] = octets.as_slice() else {
            return None;
        };
        let base = u32::from_be_bytes([*a, *b, *c, *d]);
        let cidr = Self { base, prefix };
        (base & !cidr.mask() == 0).then_some(cidr)
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains(self, other: Self) -> bool {
        other.prefix >= self.prefix && other.base & self.mask() == self.base
    }

    /// Whether the two networks share an address.
    pub fn overlaps(self, other: Self) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// `cidrsubnet(self, newbits, index)`.
    pub fn subnet(self, newbits: u8, index: u32) -> Self {
        let prefix = self.prefix + newbits;
        Self {
            base: self.base | (index << (32 - prefix)),
            prefix,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.base.to_be_bytes();
        write!(f, "{a}.{b}.{c}.{d}/{}", self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_read_and_printed_back() {
        let vpc = Cidr::parse("10.20.0.0/16").expect("valid");
        assert_eq!(vpc.to_string(), "10.20.0.0/16");
        for bad in [
            "10.20.0.1/16",
            "10.20.0/16",
            "300.0.0.0/8",
            "10.0.0.0/33",
            "10.0.0.0",
        ] {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn subnets_are_carved_as_cidrsubnet_does() {
        let vpc = Cidr::parse("10.0.0.0/16").expect("valid");
        assert_eq!(vpc.subnet(4, 0).to_string(), "10.0.0.0/20");
        assert_eq!(vpc.subnet(4, 8).to_string(), "10.0.128.0/20");
        let small = Cidr::parse("192.168.1.0/24").expect("valid");
        assert_eq!(small.subnet(4, 9).to_string(), "192.168.1.144/28");
        assert!(vpc.contains(vpc.subnet(4, 3)));
        assert!(!small.contains(vpc));
        assert!(vpc.overlaps(vpc.subnet(4, 1)));
    }
}
