#!/bin/sh
# Creates the portal's owner and application roles (deploy/postgres/roles.sql).
#
# docker-compose.yml mounts it in /docker-entrypoint-initdb.d/, so the postgres image runs it on
# the first start of an empty volume, as the superuser, in the portal's database. By hand, on an
# existing database (README, Database roles): the same script, with the standard PG* variables
# naming a superuser connection:
#   docker compose exec postgres sh /etc/dmp/postgres/initdb-roles.sh
#
# DMP_APP_URL_FILE and DMP_OWNER_URL_FILE name the files of the two DATABASE_URLs (defaults: the
# compose secrets); DMP_ROLES_SQL the SQL file (default: beside this script, or the compose
# mount).
#
# In a subshell: the image's entrypoint sources a script that is not executable, and these
# settings and variables must not leak into it.
(
    set -eu

    here="$(dirname "$0")"
    sql="${DMP_ROLES_SQL:-$here/roles.sql}"
    [ -f "$sql" ] || sql=/etc/dmp/postgres/roles.sql

    # Inside the postgres image's entrypoint, connect as it does (local socket, POSTGRES_USER).
    if [ -n "${POSTGRES_USER:-}" ]; then
        export PGUSER="${PGUSER:-$POSTGRES_USER}"
    fi
    if [ -n "${POSTGRES_DB:-}" ]; then
        export PGDATABASE="${PGDATABASE:-$POSTGRES_DB}"
    fi

    psql --no-psqlrc --set ON_ERROR_STOP=1 --quiet \
        --set app_url_file="${DMP_APP_URL_FILE:-/run/secrets/database_url}" \
        --set owner_url_file="${DMP_OWNER_URL_FILE:-/run/secrets/database_migrate_url}" \
        --file "$sql"
)
