//! `POST /api/graphql`: the demo's users, orders and articles under the rules of the REST
//! routes. Any authenticated caller (`rate = "60/1m"`, each operation of a batch counted);
//! inside the graph:
//!
//! - `me`, `articles`: any authenticated caller (as `GET /api/users/me`, `GET /api/articles`);
//! - `user(id)`, `order(id)`, `User.orders`, `User.email`, `User.role`: the owner only
//!   (another's resolves to null with the same `Not found` error as a missing one, as
//!   `GET /api/users/{user_id}` and `GET /api/orders/{order_id}` answer 404);
//! - `users`: role `admin` (as `GET /api/admin/users`);
//! - introspection: role `admin`.
//!
//! Documented queries (each succeeds for alice):
//!
//! ```graphql
//! { me { id name email orders { id item totalCents } } }
//! query One($id: ID!) { order(id: $id) { id item totalCents user { name } } }
//! { articles(limit: 5) { id title tags author { name } } }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_graphql::{
    ComplexObject, Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject, ID,
};
use secure_endpoint::graphql::{
    not_found, owned, principal, Authenticated, RequireRole, SecureSchema,
};
use secure_endpoint::policy::GraphQlLimits;

use crate::{read, Article, Order, User};

/// The limits of `POST /api/graphql`, shown in the inventory.
pub const GRAPHQL_LIMITS: GraphQlLimits = GraphQlLimits {
    max_depth: 6,
    max_complexity: 200,
    max_aliases: 10,
    max_root_fields: 5,
    max_batch: 10,
    introspection_role: Some("admin"),
    persisted_only: false,
};

/// The demo's schema.
pub type DemoSchema = SecureSchema<QueryRoot, EmptyMutation, EmptySubscription>;

/// What the resolvers read: the same maps the REST routes use.
#[derive(Clone)]
pub(crate) struct Store {
    pub(crate) users: Arc<RwLock<HashMap<String, User>>>,
    pub(crate) orders: Arc<RwLock<HashMap<String, Order>>>,
    pub(crate) articles: Arc<RwLock<Vec<Article>>>,
}

/// Builds the schema over `store`.
pub(crate) fn schema(store: Store) -> DemoSchema {
    SecureSchema::new(
        Schema::build(QueryRoot, EmptyMutation, EmptySubscription).data(store),
        &GRAPHQL_LIMITS,
    )
}

/// Every field of the schema and how it is authorized: the demo's test asserts that no field
/// is missing here ([`secure_endpoint::graphql::unlisted_fields`]).
pub const GUARDED_FIELDS: &[&str] = &[
    "QueryRoot.me",
    "QueryRoot.user",
    "QueryRoot.users",
    "QueryRoot.order",
    "QueryRoot.orders",
    "QueryRoot.articles",
    "UserNode.email",
    "UserNode.role",
    "UserNode.orders",
];

/// Fields any caller who reached the object may read.
pub const PUBLIC_FIELDS: &[&str] = &[
    "UserNode.id",
    "UserNode.name",
    "OrderNode.id",
    "OrderNode.item",
    "OrderNode.totalCents",
    "OrderNode.user",
    "ArticleNode.id",
    "ArticleNode.title",
    "ArticleNode.body",
    "ArticleNode.tags",
    "ArticleNode.published",
    "ArticleNode.likes",
    "ArticleNode.author",
];

fn store<'a>(ctx: &Context<'a>) -> &'a Store {
    ctx.data_unchecked::<Store>()
}

/// The root of every query.
#[derive(Debug)]
pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The caller.
    #[graphql(guard = "Authenticated")]
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<UserNode> {
        let me = principal(ctx)?.subject();
        read(&store(ctx).users)
            .get(me)
            .map(UserNode::from)
            .ok_or_else(not_found)
    }

    /// One user: only the caller themself.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<UserNode>> {
        let user = read(&store(ctx).users).get(id.as_str()).map(UserNode::from);
        owned(ctx, user, |u| u.id.as_str()).map(Some)
    }

    /// Every user, for administrators.
    #[graphql(guard = "RequireRole(\"admin\")", complexity = "10 * child_complexity")]
    async fn users(&self, ctx: &Context<'_>) -> Vec<UserNode> {
        let mut users: Vec<UserNode> = read(&store(ctx).users)
            .values()
            .map(UserNode::from)
            .collect();
        users.sort_by(|a, b| a.email.cmp(&b.email));
        users
    }

    /// One order: only its owner.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<OrderNode>> {
        let order = read(&store(ctx).orders).get(id.as_str()).cloned();
        owned(ctx, order, |o| o.user_id.as_str()).map(|o| Some(OrderNode(o)))
    }

    /// The caller's orders.
    #[graphql(complexity = "5 * child_complexity")]
    async fn orders(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<OrderNode>> {
        let me = principal(ctx)?.subject();
        Ok(orders_of(store(ctx), me))
    }

    /// Published articles, newest first (1 to 100; each costs its fields).
    #[graphql(
        guard = "Authenticated",
        complexity = "limit.clamp(1, 100) as usize * child_complexity"
    )]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] limit: i32,
    ) -> Vec<ArticleNode> {
        let mut all = read(&store(ctx).articles).clone();
        all.sort_by_key(|a| std::cmp::Reverse(a.seq));
        all.into_iter()
            .take(limit as usize)
            .map(|article| ArticleNode {
                id: ID(article.id.clone()),
                title: article.title.clone(),
                body: article.body.clone(),
                tags: article.tags.clone(),
                published: article.published,
                likes: article.likes,
                author_id: article.author_id,
            })
            .collect()
    }
}

fn orders_of(store: &Store, user_id: &str) -> Vec<OrderNode> {
    let mut mine: Vec<OrderNode> = read(&store.orders)
        .values()
        .filter(|o| o.user_id == user_id)
        .cloned()
        .map(OrderNode)
        .collect();
    mine.sort_by(|a, b| a.0.item.cmp(&b.0.item));
    mine
}

/// A user. Anyone who reaches one sees its id and name; the rest is the owner's.
#[derive(Debug)]
pub struct UserNode {
    id: String,
    name: String,
    email: String,
    role: String,
}

impl From<&User> for UserNode {
    fn from(u: &User) -> Self {
        UserNode {
            id: u.id.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            role: u.role.clone(),
        }
    }
}

#[Object]
impl UserNode {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    async fn name(&self) -> &str {
        &self.name
    }

    /// The owner's only.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        owned(ctx, Some(self), |u| u.id.as_str()).map(|u| Some(u.email.as_str()))
    }

    /// The owner's only.
    async fn role(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        owned(ctx, Some(self), |u| u.id.as_str()).map(|u| Some(u.role.as_str()))
    }

    /// The owner's only: another user's orders are null with `Not found`.
    #[graphql(complexity = "5 * child_complexity")]
    async fn orders(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<OrderNode>>> {
        let me = owned(ctx, Some(self), |u| u.id.as_str())?;
        Ok(Some(orders_of(store(ctx), &me.id)))
    }
}

/// An order (reached only by its owner).
#[derive(Debug)]
pub struct OrderNode(Order);

#[Object]
impl OrderNode {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn item(&self) -> &str {
        &self.0.item
    }

    async fn total_cents(&self) -> u64 {
        self.0.total_cents
    }

    /// Its owner.
    async fn user(&self, ctx: &Context<'_>) -> Option<UserNode> {
        read(&store(ctx).users)
            .get(&self.0.user_id)
            .map(UserNode::from)
    }
}

/// An article.
#[derive(Debug, SimpleObject)]
#[graphql(complex)]
pub struct ArticleNode {
    id: ID,
    title: String,
    body: String,
    tags: Vec<String>,
    published: bool,
    likes: u32,
    #[graphql(skip)]
    author_id: String,
}

#[ComplexObject]
impl ArticleNode {
    /// Its author (id and name for anyone; the rest is the author's).
    async fn author(&self, ctx: &Context<'_>) -> Option<UserNode> {
        read(&store(ctx).users)
            .get(&self.author_id)
            .map(UserNode::from)
    }
}
