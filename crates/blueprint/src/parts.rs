//! Objects every engine builds the same way, given its own names and ports: claims,
//! Secrets, internal Services, allow rules, the front door (an HTTPRoute or an Ingress to the web
//! Service), and the labels and metadata of engine steps. An engine's module says what it
//! needs; these say how a storeplane object of that kind is written.

mod claim;
mod front_door;
pub mod maintenance_page;
mod policy;
mod secret;
mod service;
mod step;

pub use claim::claim;
pub use front_door::front_door;
pub use policy::{allow, from, to};
pub use secret::secret;
pub use service::service;
pub use step::{shared_metadata, step_labels, step_metadata};
