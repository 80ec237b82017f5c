"""Co-production participation: projects, stages, activities, participations, surveys, reports."""
