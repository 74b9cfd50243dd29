create table checkpoints (name text primary key, position bigint not null);

create table monitors (
    id uuid primary key,
    organization_id uuid not null,
    spec jsonb not null,
    status text not null default 'pending',
    status_reason text not null default '',
    status_changed_at timestamptz,
    paused boolean not null default false,
    version integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index monitors_by_organization on monitors (organization_id, created_at, id);

create table notification_channels (
    id uuid primary key,
    organization_id uuid not null,
    name text not null,
    type text not null,
    config jsonb not null,
    is_default boolean not null default false,
    created_at timestamptz not null
);
create index channels_by_organization on notification_channels (organization_id, created_at, id);

create table alert_rules (
    id uuid primary key,
    organization_id uuid not null,
    spec jsonb not null,
    created_at timestamptz not null
);
create index alert_rules_by_organization on alert_rules (organization_id, created_at, id);
