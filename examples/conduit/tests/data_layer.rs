//! The data layer against a real SQLite file in a temporary directory, one module per resource.

#[path = "data_layer/articles.rs"]
mod articles;
#[path = "data_layer/comments.rs"]
mod comments;
#[path = "data_layer/common.rs"]
mod common;
#[path = "data_layer/injection.rs"]
mod injection;
#[path = "data_layer/profiles.rs"]
mod profiles;
#[path = "data_layer/users.rs"]
mod users;
