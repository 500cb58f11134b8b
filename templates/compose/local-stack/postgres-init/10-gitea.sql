-- Run once, when the postgres-data volume is empty: Gitea's own database beside `app`.
CREATE DATABASE gitea OWNER sandbox;
