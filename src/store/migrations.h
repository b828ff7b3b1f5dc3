/*
 * migrations.h - the numbered SQL migrations, embedded at build time from
 * src/store/migrations/NNN_name.sql by scripts/embed-sql.sh. Read-only data.
 */
#ifndef QUILL_MIGRATIONS_H
#define QUILL_MIGRATIONS_H

struct migration {
        int version;
        const char *name;
        const char *sql;
};

extern const struct migration quill_migrations[];
extern const unsigned quill_migration_count;

#endif
