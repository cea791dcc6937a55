"""The portal's pages and the htmx fragments they re-render, split by what they show."""
