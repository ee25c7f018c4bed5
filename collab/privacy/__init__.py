"""Privacy: a person exports what they wrote and did; an admin erases a person."""
