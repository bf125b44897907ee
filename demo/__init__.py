"""A walk through Gotong: seed a marketplace of MSMEs over the API and run one bulk order to shipment."""
