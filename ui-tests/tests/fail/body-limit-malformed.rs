use secure_endpoint::{secure_endpoint, Json};

#[derive(serde::Deserialize, garde::Validate)]
struct Note {
    #[garde(length(max = 100))]
    text: String,
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "100")]
async fn no_unit(Json(note): Json<Note>) -> String {
    note.text
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "100kib")]
async fn unknown_unit(Json(note): Json<Note>) -> String {
    note.text
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "1gb")]
async fn gigabytes(Json(note): Json<Note>) -> String {
    note.text
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "1.5mb")]
async fn fraction(Json(note): Json<Note>) -> String {
    note.text
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "100 kb")]
async fn space_before_unit(Json(note): Json<Note>) -> String {
    note.text
}

#[secure_endpoint(auth = "none", fields = ["text"], body_limit = "kb")]
async fn no_number(Json(note): Json<Note>) -> String {
    note.text
}

fn main() {}
