# Written by @example/imgc-web-components
server {
    listen {{ port }} default_server;
    server_name {{ serverName }};
    root /srv/www;
    index index.html;
    location / {
        try_files $uri $uri/ =404;
    }
}
