"""Python hooks named by profiles (`hooks:` section) for what data cannot say, such as request checksums."""
