FROM python:3.11-slim
WORKDIR /opt/medstand
COPY pyproject.toml README.md ./
COPY emulators ./emulators
COPY contracts ./contracts
RUN pip install --no-cache-dir -e .
ENV MEDSTAND_HOST=0.0.0.0 MEDSTAND_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["medstand"]
CMD ["up"]
