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
use crate::model;

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

/// Implements `WireSize` for records as the sum of the named fields (the
/// others are fixed-size numbers and enums): a WIT record and the domain
/// type that mirrors it are counted alike, so a call's input is sized
/// before it is converted.
macro_rules! record {
    (@one $ty:ty { $($field:ident),* }) => {
        impl WireSize for $ty {
            fn wire_size(&self) -> usize {
                0 $(+ self.$field.wire_size())*
            }
        }
    };
    ([$($ty:ty),+] $fields:tt) => {
        $(record!(@one $ty $fields);)+
    };
    ($ty:ty { $($field:ident),* }) => {
        record!(@one $ty { $($field),* });
    };
}

record!(wit::PluginError { code, message });
record!([wit::File, model::File] { path, content });
record!([wit::Intent, model::Intent] {
        id,
        description,
        requirements,
        constraints,
        tier
    }
);
record!([wit::Finding, model::Finding] {
        rule_id,
        message,
        path
    }
);
record!([wit::FunctionMetrics, model::FunctionMetrics] { name });
record!([wit::Analysis, model::Analysis] {
        path,
        language,
        functions,
        imports
    }
);
record!([wit::Report, model::Report] { findings, summary });
record!([wit::Validation, model::Validation] { validator, report });
record!([wit::CapsuleView, model::CapsuleView] {
        intent,
        files,
        analyses,
        validations
    }
);
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

/// What 0.1 copies of an agent's request: the intent, the project's files,
/// the findings and the role.
impl WireSize for model::GenerationRequest {
    fn wire_size(&self) -> usize {
        self.project.intent.wire_size()
            + self.project.files.wire_size()
            + self.findings.wire_size()
            + self.role.wire_size()
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

    #[test]
    fn a_domain_view_counts_what_its_0_1_copy_counts() {
        let intent = model::Intent {
            id: "i".into(),
            description: "an API".into(),
            requirements: vec!["auth".into()],
            constraints: vec![("db".into(), "pg".into())],
            tier: "standard".into(),
            kind: model::IntentKind::Generate,
        };
        let file = |p: &str, n: usize| model::File {
            path: p.into(),
            content: vec![b'x'; n],
        };
        let finding = model::Finding {
            path: Some("a.py".into()),
            line: Some(1),
            ..model::Finding::new("r/x", model::Severity::Low, "m")
        };
        let view = model::CapsuleView::new(
            intent,
            vec![file("b.py", 30), file("a.py", 70)],
            vec![],
            vec![model::Validation {
                validator: "v".into(),
                report: model::Report {
                    findings: vec![finding.clone()],
                    score: 90,
                    summary: "s".into(),
                },
            }],
            Some(90),
        );
        assert_eq!(view.wire_size(), wit::CapsuleView::from(&view).wire_size());
        assert_eq!(view.content_bytes(), 100);
        let request = model::GenerationRequest {
            project: std::sync::Arc::new(view),
            findings: vec![finding],
            iteration: 1,
            role: "tests".into(),
        };
        assert_eq!(
            request.wire_size(),
            wit::GenerationRequest::from(&request).wire_size()
        );
    }

    #[test]
    fn an_option_counts_what_it_holds_and_a_capability_its_name() {
        assert_eq!(Some("abc".to_owned()).wire_size(), 3);
        assert_eq!(None::<String>.wire_size(), 0);
        let http = "api.example.com:443";
        assert_eq!(wit::Capability::Http(http.into()).wire_size(), http.len());
        assert_eq!(wit::Capability::Secret("TOKEN".into()).wire_size(), 5);
        assert_eq!(wit::Capability::DirectoryRead.wire_size(), 0);
        let domain = model::Capability::Secret("TOKEN".into());
        assert_eq!(domain.wire_size(), 5);
        assert_eq!(model::Capability::Llm.wire_size(), 0);
        let v2 = crate::bindings::v0_2::wit::Capability::Http(http.into());
        assert_eq!(v2.wire_size(), http.len());
        assert_eq!(crate::bindings::v0_2::wit::Capability::Llm.wire_size(), 0);
    }
}
