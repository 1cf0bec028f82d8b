-- Public values a store's engine published from its setup (Medusa's publishable API key),
-- as one JSON object of strings; NULL until the setup has published them. Forward-only;
-- existing stores (WooCommerce publishes nothing) keep NULL.
ALTER TABLE stores ADD COLUMN outputs TEXT;
