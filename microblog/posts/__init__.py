"""Posts and the timelines made of them."""
