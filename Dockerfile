FROM python:3.11-slim
WORKDIR /opt/medstand
COPY pyproject.toml README.md ./
COPY emulators ./emulators
COPY contracts ./contracts
COPY scenarios ./scenarios
# emulators/contracts is a symlink into contracts/ in the source tree; the wheel built here carries a copy
RUN pip install --no-cache-dir . && rm -rf /opt/medstand/emulators /opt/medstand/contracts
WORKDIR /data
ENV MEDSTAND_HOST=0.0.0.0 MEDSTAND_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["medstand"]
CMD ["up"]
