//! A small JSON reader for login/refresh bodies, stored sessions and options (to be written).
