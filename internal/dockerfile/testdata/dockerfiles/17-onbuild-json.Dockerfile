FROM ruby:3.3.4
ONBUILD COPY Gemfile Gemfile.lock /app/
ONBUILD RUN bundle install
ONBUILD USER root
RUN ["useradd", "-m", "ruby"]
USER ruby
HEALTHCHECK CMD ["ruby", "-e", "exit 0"]
ENTRYPOINT ["bundle", "exec"]
CMD ["rails", "server"]
