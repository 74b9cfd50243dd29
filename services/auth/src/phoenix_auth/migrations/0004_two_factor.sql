-- Two-factor login: one row per user who has it on. The secret is sealed
-- (AES-GCM with PHOENIX_TOTP_KEY), the recovery codes are SHA-256 digests.
create table two_factor (
    user_id uuid primary key references users (id),
    sealed_secret text not null,
    enabled_at timestamptz not null
);

create table recovery_codes (
    user_id uuid not null references users (id),
    digest text not null,
    used_at timestamptz,
    primary key (user_id, digest)
);
