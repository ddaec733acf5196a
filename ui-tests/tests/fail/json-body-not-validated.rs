use secure_endpoint::routing::post;
use secure_endpoint::{secure_endpoint, Json, SecureRouter, Security};

#[derive(serde::Deserialize)]
struct NewNote {
    text: String,
}

#[secure_endpoint(auth = "none", fields = ["text"])]
async fn create_note(Json(note): Json<NewNote>) -> String {
    note.text
}

fn main() {
    let _app: SecureRouter =
        SecureRouter::new(Security::builder().build()).route("/notes", post(create_note));
}
