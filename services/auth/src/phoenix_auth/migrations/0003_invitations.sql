create table invitations (
    id uuid primary key,
    organization_id uuid not null references organizations (id),
    email text not null,
    role text not null,
    digest text not null unique,
    expires_at timestamptz not null,
    invited_by uuid not null,
    created_at timestamptz not null,
    state text not null default 'pending'  -- pending | accepted | revoked
);
create index invitations_by_organization on invitations (organization_id, state, created_at);
create index memberships_by_user on memberships (user_id);
