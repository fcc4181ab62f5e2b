//! What the earlier agents' files say about the project.
