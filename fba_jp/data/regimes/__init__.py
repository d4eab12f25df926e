"""Classification tables of the regulated-product regimes (one TOML file per regime)."""
