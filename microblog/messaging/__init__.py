"""Private messages between two users, and the notifications that tell users what happened."""
