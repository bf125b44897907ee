"""Swagger UI 5.36.0 (swagger-ui-dist from npm, Apache-2.0), served at /schema/assets so the docs page needs no CDN."""
