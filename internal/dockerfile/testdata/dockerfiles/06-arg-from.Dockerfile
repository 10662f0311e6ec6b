ARG BASE_IMAGE=node:20.15-alpine3.20
ARG ALPINE_VERSION=latest
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM alpine:${ALPINE_VERSION}
RUN apk add --no-cache nodejs
COPY --from=deps /app/node_modules /app/node_modules
COPY . /app
USER node
CMD ["node", "/app/server.js"]
