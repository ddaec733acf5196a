//! Every public item has one path: the modules whose items are re-exported elsewhere are
//! private, and the root re-exports of items that live in a concern module are gone.

// Re-exported at the root or in `routing`.
use secure_endpoint::auth::Principal;
use secure_endpoint::body::Json;
use secure_endpoint::config::Security;
use secure_endpoint::problem::Problem;
use secure_endpoint::router::get;
// Modules of their own at the root.
use secure_endpoint::auth::jwt::JwtVerifier;
use secure_endpoint::auth::credential::Credentials;
// Their only path is their concern module.
use secure_endpoint::Inventory;
use secure_endpoint::MultipartForm;
use secure_endpoint::SecureMethodRouter;
use secure_endpoint::mark_https;

fn main() {}
