use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct NewNote {
    #[garde(length(max = 100))]
    text: String,
}

#[secure_endpoint(atuh = "jwt", rate = "10/x")]
fn create_note(Json(note): Json<NewNote>) -> String {
    note.text
}

fn main() {}
