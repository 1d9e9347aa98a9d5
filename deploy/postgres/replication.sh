#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory: let the read
# replica of the compose network stream the WAL (as the coordinator role, by password).
set -e
echo "host replication coordinator 172.28.0.0/16 scram-sha-256" >> "$PGDATA/pg_hba.conf"
