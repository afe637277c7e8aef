"""Where raw logs come from: each module turns one kind of source into landing inputs."""
