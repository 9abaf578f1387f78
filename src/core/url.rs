//! URL joining and origin checks (to be written).
