"""Server-rendered pages: organizer console, volunteer phone pages, station dashboard."""
