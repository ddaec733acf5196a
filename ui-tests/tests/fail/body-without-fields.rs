use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct NewNote {
    #[garde(length(max = 100))]
    text: String,
}

#[secure_endpoint(auth = "jwt", allow = "authenticated")]
async fn create_note(Json(note): Json<NewNote>) -> String {
    note.text
}

fn main() {}
