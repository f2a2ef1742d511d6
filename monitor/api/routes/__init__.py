"""One router per resource; ``monitor.api.app`` mounts them."""
