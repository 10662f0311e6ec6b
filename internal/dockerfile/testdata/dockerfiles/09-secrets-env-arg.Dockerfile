FROM node:20.15-bookworm-slim
ARG NPM_TOKEN
ARG GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB
ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
    AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
ENV DB_PASSWORD="hunter2" NODE_ENV=production
ENV API_KEY ${NPM_TOKEN}
ENV PASSWORD_FILE=/run/secrets/db_password
RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc && npm ci && rm .npmrc
USER node
HEALTHCHECK CMD node healthcheck.js
CMD ["node", "index.js"]
