create table maintenance_windows (
    id uuid primary key,
    organization_id uuid not null,
    spec jsonb not null,
    active boolean not null,
    version integer not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index maintenance_windows_by_organization on maintenance_windows (organization_id, id);
