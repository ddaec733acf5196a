//! A loader that reads every path parameter (typed and by name), the state and an extension,
//! and an endpoint whose ownership failure is a 403.
use axum::extract::State;
use secure_endpoint::jwt::JwtVerifier;
use secure_endpoint::{LoadContext, LoadOwned};
use secure_endpoint::policy::OwnerDenial;
use secure_endpoint::routing::delete;
use secure_endpoint::{secure_endpoint, Owned, Problem, SecureEndpoint, SecureRouter, Security};

#[derive(Clone, Default)]
struct Db;

#[derive(Clone)]
struct Flags;

struct Comment {
    author: String,
}

impl LoadOwned<Db> for Comment {
    async fn load(mut request: LoadContext<'_, Db>) -> Result<Option<Self>, Problem> {
        let (slug, id): (String, u64) = request.path().await?;
        let _db: &Db = request.state();
        let _flags: Option<&Flags> = request.extension::<Flags>();
        assert_eq!(request.param("slug"), Some(slug.as_str()));
        assert_eq!(request.id(), id.to_string());
        let author = request.principal().subject().to_owned();
        Ok(Some(Comment { author }))
    }

    fn owner_id(&self) -> &str {
        &self.author
    }
}

#[secure_endpoint(auth = "jwt", owner = "id", loader = Comment, owner_status = 403)]
async fn delete_comment(State(_db): State<Db>, Owned(_comment): Owned<Comment>) -> &'static str {
    "deleted"
}

fn main() {
    assert_eq!(
        delete_comment::POLICY.authorization.owner.unwrap().denial,
        Some(OwnerDenial::Forbidden)
    );
    let verifier = JwtVerifier::hs256(b"a secret of at least thirty-two bytes!")
        .unwrap()
        .issuer("https://issuer.example")
        .audience("ui-tests")
        .build()
        .unwrap();
    let _app: axum::Router = SecureRouter::new(Security::builder().jwt(verifier).build())
        .owner_status(OwnerDenial::NotFound)
        .route("/articles/{slug}/comments/{id}", delete(delete_comment))
        .with_state(Db);
}
