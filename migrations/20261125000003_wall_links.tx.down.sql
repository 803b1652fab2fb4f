DROP TABLE wall_links;
