//! Reading a QLP intent into what a generated service contains, whatever
//! its stack: the resources and their fields, whether routes need JWT
//! authentication, which database the `DATABASE_URL` seam is for, the port
//! and the project's name.
//!
//! The stack agents (`qlp/template-go`, `qlp/template-node`,
//! `qlp/template-rust`, and the front-ends `qlp/template-react` and
//! `qlp/template-static`) share this reading so that one intent gives the
//! same API in every language, and forms that ask for what it stores; each
//! agent only decides how its language spells the names (see
//! [`words::pascal_case`], [`words::camel_case`]) and which identifiers its
//! generated code reserves. [`Field::text_format`] and [`Field::label`] say
//! how a form asks for a field.
//!
//! [`template`] is the small `{{placeholder}}` engine the agents render
//! their template files with, and [`readme`] holds the README text the
//! agents write alike.
//!
//! It is a plain library linked into each agent's component; it calls no
//! host service, so everything here is tested natively with `cargo test`.
//! Reading is deterministic: the same intent always gives the same spec.

pub mod fields;
pub mod protection;
pub mod readme;
pub mod sensitive;
pub mod spec;
pub mod template;
pub mod words;

pub use fields::{Field, FieldKind, TextFormat};
pub use spec::{Database, IntentSpec, MAX_RESOURCES, Resource, analyze};
