create table checkpoints (name text primary key, position bigint not null);

create table users (
    id uuid primary key,
    username text not null,
    username_key text not null unique,
    email text not null,
    password_hash text not null,
    created_at timestamptz not null
);

create table organizations (
    id uuid primary key,
    name text not null,
    owner_user_id uuid not null,
    personal boolean not null default false,
    created_at timestamptz not null
);

create table memberships (
    organization_id uuid not null references organizations (id),
    user_id uuid not null references users (id),
    role text not null,
    primary key (organization_id, user_id)
);
