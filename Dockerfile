# syntax=docker/dockerfile:1
# The exact Node of .node-version (CI and the tests run the same one; a test keeps the two equal).
FROM node:26.12.1-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsconfig.build.json emits the server only: no tests or scripts in dist/.
RUN npm run build && npm prune --omit=dev

FROM node:26.12.1-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# test/system/image.test.ts assembles exactly what these COPY lines copy and starts the server from it.
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# tools*.json: the shipped example, and tools.json (TOOLS_FILE) when there is one.
COPY --chown=node:node package.json system-message.txt tools*.json ./
COPY --chown=node:node public ./public
# The apology the bridge plays when the model fails (read at start).
COPY --chown=node:node assets ./assets
# Hands DATA_DIR (the call store's volume) to the node user, then runs the CMD as node.
COPY scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
EXPOSE 3000 9091
# SIGTERM reaches node directly (no npm wrapper) so calls drain on deploys.
# The same node flags as `npm start` (a test keeps them equal); see the README's performance section for why.
CMD ["node", "--single-threaded", "--heap-growing-percent=200", "--max-semi-space-size=2", "dist/server.js"]
