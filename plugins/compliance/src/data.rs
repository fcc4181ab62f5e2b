//! Sensitive data recognised by name: card data (PCI DSS), health data
//! (HIPAA) and personal data (GDPR). A name is split into lower-case words
//! (`cardNumber`, `card_number` and `CardNumber` are all `card number`)
//! and matched against word lists, so that `card_id`, `masked_pan`,
//! `email_template` or `listen_address` are not taken for the data itself.

use crate::frameworks::{Framework, Selection};

pub use qlp_intent_spec::sensitive::{Kind, classify, needs_encryption_at_rest, words};

/// Which framework protects a kind of data, and whether a selection of
/// frameworks puts it in scope.
pub trait Protected {
    /// The framework that protects this kind.
    fn framework(self) -> Framework;
    /// Whether the selection puts this kind in scope.
    fn in_scope(self, selection: &Selection) -> bool;
}

impl Protected for Kind {
    fn framework(self) -> Framework {
        match self {
            Kind::Card | Kind::Cvv => Framework::PciDss,
            Kind::Health => Framework::Hipaa,
            Kind::Personal => Framework::Gdpr,
        }
    }

    fn in_scope(self, selection: &Selection) -> bool {
        selection.has(self.framework())
    }
}
