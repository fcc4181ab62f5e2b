//! The size of what crosses the sandbox boundary, for the per-call input
//! and output caps: the bytes of every string and byte list, plus
//! [`ELEMENT_BYTES`] for every element of any other list (a record, a
//! string, a pair), so a plugin returning millions of empty files or
//! findings is refused like one returning megabytes. A call's input is
//! checked before the plugin is instantiated; its output right after it is
//! lifted, before the host keeps or copies it. (The lifting itself is
//! bounded by the plugin's memory limit: a list cannot hold more elements
//! than the guest's memory could describe.)

use crate::bindings::wit;

/// What one element of a list that is not bytes counts for, besides its
/// own contents: about what the host keeps per element.
pub const ELEMENT_BYTES: usize = 16;

pub trait WireSize {
    fn wire_size(&self) -> usize;

    /// What each element of a list of these counts for besides its
    /// `wire_size`.
    const ELEMENT: usize = ELEMENT_BYTES;
}

impl WireSize for String {
    fn wire_size(&self) -> usize {
        self.len()
    }
}

impl WireSize for u8 {
    fn wire_size(&self) -> usize {
        1
    }

    const ELEMENT: usize = 0;
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> usize {
        self.iter()
            .map(WireSize::wire_size)
            .sum::<usize>()
            .saturating_add(self.len().saturating_mul(T::ELEMENT))
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> usize {
        self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> usize {
        self.0.wire_size() + self.1.wire_size()
    }
}

impl<T: WireSize, E: WireSize> WireSize for Result<T, E> {
    fn wire_size(&self) -> usize {
        match self {
            Ok(t) => t.wire_size(),
            Err(e) => e.wire_size(),
        }
    }
}

/// Implements `WireSize` for a record as the sum of the named fields (the
/// others are fixed-size numbers and enums).
macro_rules! record {
    ($ty:ty { $($field:ident),* }) => {
        impl WireSize for $ty {
            fn wire_size(&self) -> usize {
                0 $(+ self.$field.wire_size())*
            }
        }
    };
}

record!(wit::PluginError { code, message });
record!(wit::File { path, content });
record!(wit::Intent {
    id,
    description,
    requirements,
    constraints,
    tier
});
record!(wit::Finding {
    rule_id,
    message,
    path
});
record!(wit::FunctionMetrics { name });
record!(wit::Analysis {
    path,
    language,
    functions,
    imports
});
record!(wit::Report { findings, summary });
record!(wit::Validation { validator, report });
record!(wit::CapsuleView {
    intent,
    files,
    analyses,
    validations
});
record!(wit::GenerationRequest {
    intent,
    files,
    findings,
    role
});
record!(wit::ExportOptions { base_name, options });
record!(wit::Artifact {
    media_type,
    file_name,
    bytes
});
record!(wit::DeliveryTarget {
    destination,
    options
});
record!(wit::Receipt { location, details });
record!(wit::PlanningRequest { intent, tiers });
record!(wit::Plan {
    recommended_tier,
    justification,
    stack,
    constraints,
    compliance
});

impl WireSize for wit::Capability {
    fn wire_size(&self) -> usize {
        match self {
            wit::Capability::Http(s) | wit::Capability::Secret(s) => s.len(),
            wit::Capability::DirectoryRead | wit::Capability::DirectoryWrite => 0,
        }
    }
}

record!(wit::PluginInfo {
    name,
    version,
    description,
    capabilities
});

/// The domain's side of the same records, counted as 0.1.0 copies them:
/// a call's input is sized before it is converted.
mod domain {
    use super::WireSize;
    use crate::model;

    record!(model::File { path, content });
    record!(model::Intent {
        id,
        description,
        requirements,
        constraints,
        tier
    });
    record!(model::Finding {
        rule_id,
        message,
        path
    });
    record!(model::FunctionMetrics { name });
    record!(model::Analysis {
        path,
        language,
        functions,
        imports
    });
    record!(model::Report { findings, summary });
    record!(model::Validation { validator, report });
    record!(model::CapsuleView {
        intent,
        files,
        analyses,
        validations
    });
    record!(model::GenerationRequest {
        project,
        findings,
        role
    });

    impl<T: WireSize> WireSize for std::sync::Arc<T> {
        fn wire_size(&self) -> usize {
            (**self).wire_size()
        }
    }
}

impl crate::model::CapsuleView {
    /// The bytes of its files' contents: what a 0.2.0 plugin reads one
    /// file at a time, counted as it reads, rather than as its input.
    pub fn content_bytes(&self) -> usize {
        self.files.iter().map(|f| f.content.len()).sum()
    }
}

impl WireSize for crate::model::Capability {
    fn wire_size(&self) -> usize {
        match self {
            Self::Http(s) | Self::Secret(s) => s.len(),
            Self::DirectoryRead | Self::DirectoryWrite | Self::Llm => 0,
        }
    }
}

record!(crate::model::PluginInfo {
    name,
    version,
    description,
    capabilities
});

/// What a 0.2 plugin returns (its inputs are measured as 0.1's: the host
/// builds them in those types).
mod v0_2 {
    use super::WireSize;
    use crate::bindings::v0_2::wit;

    record!(wit::PluginError { code, message });
    record!(wit::File { path, content });
    record!(wit::FunctionMetrics { name });
    record!(wit::Analysis {
        path,
        language,
        functions,
        imports
    });
    record!(wit::Location { path });
    record!(wit::Replacement { path, text });
    record!(wit::Fix {
        description,
        replacements
    });
    record!(wit::Finding {
        rule_id,
        message,
        location,
        snippet,
        fix,
        tags
    });
    record!(wit::Report { findings, summary });
    record!(wit::Artifact {
        media_type,
        file_name,
        bytes
    });
    record!(wit::Receipt { location, details });
    record!(wit::Plan {
        recommended_tier,
        justification,
        stack,
        constraints,
        compliance
    });

    impl WireSize for wit::Capability {
        fn wire_size(&self) -> usize {
            match self {
                wit::Capability::Http(s) | wit::Capability::Secret(s) => s.len(),
                wit::Capability::DirectoryRead
                | wit::Capability::DirectoryWrite
                | wit::Capability::Llm => 0,
            }
        }
    }

    record!(wit::PluginInfo {
        name,
        version,
        description,
        capabilities
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_string_and_byte() {
        let files = vec![
            wit::File {
                path: "a.py".into(),
                content: vec![0; 100],
            },
            wit::File {
                path: "b".into(),
                content: vec![],
            },
        ];
        assert_eq!(files.wire_size(), 4 + 100 + 1 + 2 * ELEMENT_BYTES);
        let r: Result<Vec<wit::File>, wit::PluginError> = Err(wit::PluginError {
            code: "X".into(),
            message: "no".into(),
        });
        assert_eq!(r.wire_size(), 3);
    }

    #[test]
    fn empty_elements_count_but_bytes_count_once() {
        // A million empty findings are 16 MB of elements, over any cap a
        // tier would set; a megabyte of file content is a megabyte.
        let empty = wit::Finding {
            rule_id: String::new(),
            severity: wit::Severity::Info,
            message: String::new(),
            path: None,
            line: None,
        };
        let findings = vec![empty; 1_000_000];
        assert_eq!(findings.wire_size(), 1_000_000 * ELEMENT_BYTES);
        assert_eq!(vec![7u8; 1 << 20].wire_size(), 1 << 20);
        let strings = vec![String::new(); 3];
        assert_eq!(strings.wire_size(), 3 * ELEMENT_BYTES);
        let pairs = vec![("k".to_owned(), "v".to_owned())];
        assert_eq!(pairs.wire_size(), 2 + ELEMENT_BYTES);
    }
}
