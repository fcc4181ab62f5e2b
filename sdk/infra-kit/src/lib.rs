//! What QLP's deployment plugins share, so that a capsule's service is
//! read and packaged one way whichever plugin does it: the exporters
//! `qlp/kubernetes` and `qlp/helm`, and the infrastructure agents
//! `qlp/compose`, `qlp/ci-workflow` and `qlp/k8s-manifests`.
//!
//! - [`settings`]: what a deployment of the service needs (name, image,
//!   port, health path, user, resources, Ingress host), derived from the
//!   Dockerfile and sources and checked when given as options;
//! - [`kube`]: the hardened Kubernetes objects built from those settings;
//! - [`yaml`]: the YAML emitter every generated manifest is written with;
//! - [`project`]: what the earlier agents' files say about the project
//!   (its stack, tests, environment variables) and [`project::Wants`],
//!   which infrastructure the intent asks for.
//!
//! It is a plain library linked into each plugin's component; it calls no
//! host service, so everything here is tested natively with `cargo test`.

pub mod kube;
pub mod project;
pub mod settings;
pub mod yaml;
