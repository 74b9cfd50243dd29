create table api_keys (
    id uuid primary key,
    organization_id uuid not null,
    user_id uuid not null references users (id),
    name text not null,
    prefix text not null unique,
    digest text not null,
    scopes jsonb not null,
    expires_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null
);
create index api_keys_by_user on api_keys (user_id, organization_id);
